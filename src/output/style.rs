//! What a stream can show: colour only on a terminal, without `NO_COLOR` (https://no-color.org)
//! and without `--no-color`; the marks ✔ ‼ × only where the locale's character set is UTF-8,
//! plain ASCII otherwise. Decided once per stream at the edge, passed down as plain booleans.

use std::{
    io::IsTerminal,
    sync::atomic::{AtomicBool, Ordering},
};

static NO_COLOR_FLAG: AtomicBool = AtomicBool::new(false);

/// Records `--no-color` for the whole run (set before anything is written).
pub fn init(no_color: bool) {
    NO_COLOR_FLAG.store(no_color, Ordering::Relaxed);
}

/// Colour allowed on a stream: it is a terminal, `--no-color` was not given, `NO_COLOR` is
/// unset or empty (the convention says any non-empty value disables colour).
pub fn colour_allowed(is_terminal: bool) -> bool {
    is_terminal && !NO_COLOR_FLAG.load(Ordering::Relaxed) && !no_color_env()
}

fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

pub fn stdout_colour() -> bool {
    colour_allowed(std::io::stdout().is_terminal())
}

/// How a report is drawn on one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub colour: bool,
    pub unicode: bool,
}

impl Style {
    /// Plain ASCII, no colour: what a log file or an old terminal gets.
    pub const PLAIN: Style = Style {
        colour: false,
        unicode: false,
    };

    pub fn stdout() -> Style {
        Style {
            colour: stdout_colour(),
            unicode: unicode(),
        }
    }
}

pub fn stderr_colour() -> bool {
    colour_allowed(std::io::stderr().is_terminal())
}

/// Whether the locale can show ✔ ‼ ×: the character set of the first of LC_ALL, LC_CTYPE and
/// LANG that is set and non-empty (POSIX's precedence) is UTF-8. None set is the C locale.
/// Windows consoles take UTF-8 whatever these say.
pub fn unicode() -> bool {
    if cfg!(windows) {
        return true;
    }
    let get = |k: &str| std::env::var(k).ok();
    unicode_locale(get("LC_ALL"), get("LC_CTYPE"), get("LANG"))
}

/// Pure form of [`unicode`]: `C.UTF-8`, `en_US.utf8` and `de_DE.UTF-8@euro` are UTF-8;
/// `C`, `POSIX` and `en_US.ISO-8859-1` are not.
pub fn unicode_locale(
    lc_all: Option<String>,
    lc_ctype: Option<String>,
    lang: Option<String>,
) -> bool {
    let Some(locale) = [lc_all, lc_ctype, lang]
        .into_iter()
        .flatten()
        .find(|v| !v.is_empty())
    else {
        return false;
    };
    let charset = locale
        .split_once('.')
        .map(|(_, c)| c.split('@').next().unwrap_or_default())
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(charset.as_str(), "utf-8" | "utf8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.into())
    }

    #[test]
    fn locales() {
        assert!(unicode_locale(None, None, s("C.UTF-8")));
        assert!(unicode_locale(None, None, s("en_US.utf8")));
        assert!(unicode_locale(None, s("de_DE.UTF-8@euro"), s("C")));
        assert!(!unicode_locale(None, None, None), "unset is the C locale");
        assert!(
            !unicode_locale(s("C"), None, s("en_US.UTF-8")),
            "LC_ALL wins"
        );
        assert!(
            !unicode_locale(None, s("POSIX"), s("en_US.UTF-8")),
            "then LC_CTYPE"
        );
        assert!(
            unicode_locale(s(""), None, s("en_US.UTF-8")),
            "empty means unset"
        );
        assert!(!unicode_locale(None, None, s("en_US.ISO-8859-1")));
        assert!(!unicode_locale(None, None, s("en_US")));
    }

    #[test]
    fn colour_needs_a_terminal() {
        assert!(!colour_allowed(false));
    }
}
