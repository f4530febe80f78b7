#!/bin/sh
# kubectl exec shim of the test ground. kwok runs an exec'd command ON THE HOST: it resolves
# argv[0] with its own PATH (whose first entry is DIR/shim, where this script is linked as sh,
# cat, env, ...), starts it with cwd = the container's Exec workDir (DIR/pods/<ns>/<pod>/c/<c>)
# and env = kwok's env + the container's env (the container's PATH, which has no shim dir, wins).
#
# What a container runtime would know of the container, ground-agent left as marker files in
# that workDir:
#   no-shell   the image has no shell or coreutils (distroless): every exec fails the way runc
#              fails it, `OCI runtime exec failed: ... exec: "sh": executable file not found in
#              $PATH: unknown`, on stderr with exit code 126 (as dockershim passed it on;
#              containerd puts the same sentence in the exec's status message instead).
#   read-only  securityContext.readOnlyRootFilesystem: the pod's /tmp and HOME are read-only.
#
# ground-exec-probe (ground-agent's check that kwok serves the pod's current Exec) prints the
# Exec's marker variable and exits, whatever the image.
#
# Otherwise: enter a private mount namespace, put the pod's root var/run/secrets over
# /var/run/secrets and its tmp over /tmp, cd /, and exec the real command found on the
# container's PATH.
name=${0##*/}
cdir=$(pwd -P)
pod=${cdir%/c/*}
if [ "$pod" = "$cdir" ] || [ ! -d "$pod/root/var/run/secrets" ]; then
  echo "ground exec shim: $cdir is not a ground container dir (no ../../root/var/run/secrets)" >&2
  exit 126
fi
# ground-agent's probe (see agent/src/exec_probe.rs): answer with the marker of the Exec kwok
# ran this with; every other command never sees the marker.
if [ "$name" = ground-exec-probe ]; then
  printf '%s\n' "${AZWI_GROUND_EXEC-}"
  exit 0
fi
unset AZWI_GROUND_EXEC
if [ -e "$cdir/no-shell" ]; then
  printf 'OCI runtime exec failed: exec failed: unable to start container process: exec: "%s": executable file not found in $PATH: unknown\n' "$name" >&2
  exit 126
fi
ro=
[ -e "$cdir/read-only" ] && ro=1
sys=/usr/sbin:/usr/bin:/sbin:/bin
unshare=$(PATH=$sys command -v unshare) || { echo "ground exec shim: unshare not found" >&2; exit 126; }
mount=$(PATH=$sys command -v mount) || { echo "ground exec shim: mount not found" >&2; exit 126; }
exec "$unshare" --mount --propagation private -- /bin/sh -c '
  m=$1 pod=$2 ro=$3
  "$m" --bind "$pod/root/var/run/secrets" /var/run/secrets || exit 126
  "$m" --bind "$pod/root/tmp" /tmp || exit 126
  if [ -n "$ro" ]; then
    "$m" -o remount,bind,ro /tmp || exit 126
    "$m" --bind "$pod/root/root" "$pod/root/root" && "$m" -o remount,bind,ro "$pod/root/root" || exit 126
  fi
  cd / || exit 126
  unset OLDPWD
  shift 3
  exec "$@"' ground-exec-shim "$mount" "$pod" "$ro" "$name" "$@"
