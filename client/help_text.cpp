#include "client/help_text.h"

namespace nsbroker::client {

std::string_view program_help() {
  return "usage: nsbroker run [OPTIONS...] [--] COMMAND [ARGS...]\n"
         "       nsbroker --help | --version\n"
         "\n"
         "Runs COMMAND in a namespace sandbox built by nsbrokerd, the system sandbox broker.\n"
         "The options follow bubblewrap's; see `nsbroker run --help`.\n"
         "\n"
         "Environment:\n"
         "  NSBROKER_SOCKET   daemon socket (default /run/nsbroker/nsbroker.sock)\n"
         "  DBUS_SYSTEM_BUS_ADDRESS  the bus `run --dbus` uses (default: the system bus)\n";
}

std::string_view run_help() {
  return "usage: nsbroker run [OPTIONS...] [--] COMMAND [ARGS...]\n"
         "\n"
         "Filesystem (applied in the order given; later mounts stack on earlier ones):\n"
         "  --bind SRC DEST         bind-mount the caller's SRC read-write on DEST\n"
         "  --ro-bind SRC DEST      bind-mount SRC read-only on DEST\n"
         "  --dev-bind SRC DEST     bind-mount SRC on DEST, device files usable\n"
         "  --tmpfs DEST            mount an empty tmpfs on DEST\n"
         "  --proc DEST             mount a procfs on DEST\n"
         "  --dev DEST              mount a minimal /dev on DEST\n"
         "  --dir DEST              create the directory DEST\n"
         "  --symlink TARGET DEST   create the symlink DEST pointing to TARGET\n"
         "  --remount-ro DEST       make the mount at DEST read-only\n"
         "  --perms OCTAL           mode of the next --tmpfs or --dir\n"
         "  --size BYTES            size limit of the next --tmpfs\n"
         "\n"
         "Namespaces:\n"
         "  --unshare-user | --unshare-pid | --unshare-net | --unshare-ipc | --unshare-uts\n"
         "  --unshare-cgroup        create that namespace\n"
         "  --unshare-all           all of the above\n"
         "  --share-net             keep the caller's network (undoes --unshare-all for net)\n"
         "  --hostname NAME         hostname in the sandbox (needs --unshare-uts)\n"
         "\n"
         "Process:\n"
         "  --chdir DIR             working directory in the sandbox\n"
         "  --setenv VAR VALUE      set VAR in the command's environment\n"
         "  --unsetenv VAR          remove VAR from the command's environment\n"
         "  --clearenv              start the command with an empty environment\n"
         "  --new-session           run the command in a new terminal session\n"
         "  --die-with-parent       kill the command when this client's parent dies\n"
         "  --as-pid-1              run the command as pid 1 (no reaper) in a new pid namespace\n"
         "\n"
         "Client:\n"
         "  --socket PATH           nsbrokerd socket (default $NSBROKER_SOCKET, then\n"
         "                          /run/nsbroker/nsbroker.sock)\n"
         "  --dbus                  go through D-Bus (org.nsbroker.Broker1 on the system bus,\n"
         "                          activating nsbrokerd if needed) instead of the socket\n"
         "  --help                  print this help\n"
         "  --version               print the version\n";
}

}  // namespace nsbroker::client
