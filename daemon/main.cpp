// nsbrokerd: the composition root. Reads as the ordered list of startup steps; everything
// else lives in the stage folders (server → auth → policy → sandbox, supervise).
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "audit/audit_log.h"
#include "core/broker.h"
#include "daemon_options.h"
#include "core/policy_source.h"
#include "policy/policy_loader.h"
#include "sandbox/userns.h"
#include "server/listener.h"
#include "server/services.h"
#include "service/runtime.h"
#include "supervise/live_sandboxes.h"

namespace {

using nsbroker::ModeChoice;
using nsbroker::policy::SandboxMode;

// Ready network namespaces kept in advance (each ~0.6 ms to make, a few hundred KiB).
constexpr std::size_t kPooledNetworkNamespaces = 2;

// fds 0-2 must be open, so that no received fd can ever land there.
void ensure_standard_fds() {
  for (int fd = 0; fd < 3; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0) ::open("/dev/null", O_RDWR);
  }
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& level) {
  auto log = spdlog::stderr_color_mt("nsbrokerd");
  log->set_level(spdlog::level::from_str(level));
  log->set_pattern("nsbrokerd[%P] %^%l%$: %v");
  return log;
}

std::optional<SandboxMode> resolve_mode(ModeChoice choice, spdlog::logger& log) {
  bool userns_possible = nsbroker::sandbox::root_can_create_user_namespace();
  switch (choice) {
    case ModeChoice::kPrivileged: return SandboxMode::kPrivileged;
    case ModeChoice::kUserNamespace:
      if (userns_possible) return SandboxMode::kUserNamespace;
      log.error("--mode userns: this kernel does not let root create user namespaces; use "
                "--mode auto or --mode privileged");
      return std::nullopt;
    case ModeChoice::kAuto:
      if (!userns_possible) log.info("user namespaces unavailable: using privileged mode");
      return userns_possible ? SandboxMode::kUserNamespace : SandboxMode::kPrivileged;
  }
  return std::nullopt;
}

// The socket systemd passed, else our own at `path`; `where` says which, for the log.
// SIGHUP: read, validate and compile the policy again; swap it in only if all of that worked.
void watch_for_reload(boost::asio::signal_set& hangup, nsbroker::PolicySource& policy,
                      spdlog::logger& log) {
  hangup.async_wait([&hangup, &policy, &log](const boost::system::error_code& ec, int) {
    if (ec) return;
    auto reloaded = policy.reload();
    if (reloaded) {
      log.info("SIGHUP: reloaded {} ({} profiles)", policy.origin(), reloaded.value()->profiles().size());
    } else {
      log.error("SIGHUP: keeping the previous policy; {} is invalid:", policy.origin());
      for (const std::string& line : nsbroker::policy::error_lines(reloaded.failure())) log.error("  {}", line);
    }
    watch_for_reload(hangup, policy, log);
  });
}

nsbroker::Result<nsbroker::UniqueFd> open_listening_socket(const std::string& path,
                                                           std::string& where) {
  auto passed = nsbroker::server::socket_from_systemd();
  if (!passed) return passed.failure();
  if (passed.value()) {
    where = "the socket passed by systemd";
    return std::move(*passed.value());
  }
  where = path;
  return nsbroker::server::listen_on_path(path);
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  auto options = nsbroker::parse_daemon_options({argv + 1, argv + argc}, error);
  if (!options) {
    std::fprintf(stderr, "nsbrokerd: %s\n", error.c_str());
    return 2;
  }
  if (options->help) return std::fputs(nsbroker::kDaemonUsage, stdout), 0;
  if (options->version) return std::puts("nsbrokerd " NSBROKER_VERSION), 0;

  ensure_standard_fds();
  // Non-dumpable: the caller cannot ptrace the daemon or its setup processes.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  std::signal(SIGPIPE, SIG_IGN);
  auto log = make_logger(options->log_level);
  if (::geteuid() != 0) {
    log->error("nsbrokerd must run as root (it creates namespaces for its callers)");
    return 1;
  }
  boost::asio::io_context io;
  // Early, while the daemon is small: the pool's factory is a fork of it.
  auto netns_pool = nsbroker::sandbox::NetnsPool::start(io, kPooledNetworkNamespaces);
  if (!netns_pool) log->warn("no network namespace pool: {}", netns_pool.failure().message);
  auto mode = resolve_mode(options->mode, *log);
  if (!mode) return 1;
  // An invalid policy stops the daemon here, with every error as FILE:LINE:COLUMN.
  auto policy = nsbroker::PolicySource::load(options->policy_path);
  if (!policy) {
    log->error("refusing to start: the policy is invalid:");
    for (const std::string& line : nsbroker::policy::error_lines(policy.failure())) log->error("  {}", line);
    return 1;
  }
  nsbroker::UniqueFd proc_dir(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!proc_dir) return log->error("cannot open /proc: {}", std::strerror(errno)), 1;
  // Before the socket is taken (that clears LISTEN_*): was this start an activation?
  auto activation = nsbroker::service::detect_activation();
  std::string where;
  auto socket = open_listening_socket(options->socket_path, where);
  if (!socket) return log->error("{}", socket.failure().message), 1;

  auto audit = nsbroker::audit::AuditLog::open({options->audit_json_path});
  if (!audit) return log->error("{}", audit.failure().message), 1;

  // sd_notify, idle exit and the D-Bus front (daemon/service, daemon/dbus).
  nsbroker::service::Runtime runtime(io, *options, activation, log);
  nsbroker::supervise::LiveSandboxes live(options->max_sandboxes_per_uid);
  nsbroker::supervise::SpawnRate spawn_rate;
  nsbroker::server::Services services{*mode, policy.value().get(), proc_dir.get(),
                                      netns_pool ? netns_pool.value().get() : nullptr, &live,
                                      &spawn_rate, log, audit.value()};
  services.activity = runtime.activity();
  const auto cgroups = nsbroker::auth::CgroupMounts::read_own();
  services.cgroups = &cgroups;
  nsbroker::Broker broker(io, services);
  nsbroker::server::Listener listener(io, std::move(socket.value()), broker);
  listener.start();
  runtime.start(broker);
  boost::asio::signal_set stop(io, SIGTERM, SIGINT);
  // Sandboxes die with the daemon: their init has PR_SET_PDEATHSIG(SIGKILL).
  stop.async_wait([&](const boost::system::error_code&, int sig) {
    log->info("stopping on signal {}", sig);
    runtime.stopping("signal " + std::to_string(sig));
    io.stop();
  });
  boost::asio::signal_set hangup(io, SIGHUP);
  watch_for_reload(hangup, *policy.value(), *log);
  log->info("policy: {} ({} profiles)", policy.value()->origin(),
            policy.value()->current()->profiles().size());
  log->info("listening on {} ({} mode)", where, nsbroker::policy::to_string(*mode));
  io.run();
  return 0;
}
