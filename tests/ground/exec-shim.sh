#!/bin/sh
# kubectl exec shim of the test ground. kwok runs an exec'd command ON THE HOST: it resolves
# argv[0] with its own PATH (whose first entry is DIR/shim, where this script is linked as sh,
# cat, env, ...), starts it with cwd = the pod's Exec workDir (DIR/pods/<ns>/<pod>) and env =
# kwok's env + the container's env (the container's PATH, which has no shim dir, wins).
# Here: enter a private mount namespace, put the pod's root var/run/secrets over
# /var/run/secrets, cd /, and exec the real command found on the container's PATH.
name=${0##*/}
pod=$(pwd -P)
if [ ! -d "$pod/root/var/run/secrets" ]; then
  echo "ground exec shim: $pod is not a ground pod dir (no root/var/run/secrets)" >&2
  exit 126
fi
sys=/usr/sbin:/usr/bin:/sbin:/bin
unshare=$(PATH=$sys command -v unshare) || { echo "ground exec shim: unshare not found" >&2; exit 126; }
mount=$(PATH=$sys command -v mount) || { echo "ground exec shim: mount not found" >&2; exit 126; }
exec "$unshare" --mount --propagation private -- /bin/sh -c '
  "$1" --bind "$2/root/var/run/secrets" /var/run/secrets || exit 126
  cd / || exit 126
  unset OLDPWD
  shift 2
  exec "$@"' ground-exec-shim "$mount" "$pod" "$name" "$@"
