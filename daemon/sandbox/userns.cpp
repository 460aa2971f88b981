#include "sandbox/userns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/child_text.h"
#include "sandbox/syscalls.h"

namespace nsbroker::sandbox {
namespace {

bool write_proc_file(int proc_dir_fd, pid_t pid, const char* file, const char* data,
                     std::size_t length) {
  TextBuffer<64> path;
  path.decimal(static_cast<unsigned long>(pid)).text("/").text(file);
  int fd = ::openat(proc_dir_fd, path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t written = ::write(fd, data, length);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return written == static_cast<ssize_t>(length);
}

}  // namespace

bool write_id_maps(int proc_dir_fd, pid_t pid, IdMapping uid, IdMapping gid) {
  // "deny" keeps the payload from dropping supplementary groups that are used as negative
  // permissions on host files; the caller's groups were set before the namespace was made.
  if (!write_proc_file(proc_dir_fd, pid, "setgroups", "deny", 4)) return false;
  TextBuffer<48> uid_map;
  uid_map.decimal(uid.inside).text(" ").decimal(uid.outside).text(" 1");
  if (!write_proc_file(proc_dir_fd, pid, "uid_map", uid_map.c_str(), uid_map.size())) return false;
  TextBuffer<48> gid_map;
  gid_map.decimal(gid.inside).text(" ").decimal(gid.outside).text(" 1");
  return write_proc_file(proc_dir_fd, pid, "gid_map", gid_map.c_str(), gid_map.size());
}

bool root_can_create_user_namespace() {
  pid_t pid = sys::clone_process(CLONE_NEWUSER, nullptr);
  if (pid < 0) return false;
  if (pid == 0) ::_exit(0);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace nsbroker::sandbox
