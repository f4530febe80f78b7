/*
 * Debian 12's Wine 8.0 has no bcryptprimitives.dll, which Windows ships since Windows 8 and
 * Rust's standard library (1.78 and later) imports for ProcessPrng, its source of randomness:
 * without it every Rust .exe stops at load with status c0000135 (wine exit 53). This stand-in
 * goes into the test's wine prefix only (tests/release/run.sh), never into an archive; it
 * fills the buffer from RtlGenRandom (advapi32's SystemFunction036), which Wine 8 has.
 */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
