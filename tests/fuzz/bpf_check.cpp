// The checks on a profile's compiled seccomp program: a small classic-BPF interpreter that
// runs the exported program the way the kernel would (and refuses what the kernel's checker
// would refuse), then three properties over a set of probe system calls:
//   1. everything the base filter refuses, the profile's program refuses too (policy can only
//      tighten), on every architecture the filter covers, and a foreign architecture is refused;
//   2. a call one of the profile's rules matches is refused, with that rule's action when it is
//      the only rule that matches and the base filter lets the call through;
//   3. a native call that neither the base filter nor any rule matches is allowed.
// The expected answers come from the rules as the loader compiled them and from the base
// program (compiled once), not from libseccomp's view of them.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>

#include "fuzz_support.h"
#include "sandbox/seccomp.h"

namespace nsbroker::fuzz {
namespace {

using sandbox::SyscallRule;

constexpr std::uint32_t kX32Bit = 0x40000000u;  // __X32_SYSCALL_BIT

seccomp_data probe(std::uint32_t arch, int nr, std::uint64_t all_args) {
  seccomp_data data{};
  data.nr = nr;
  data.arch = arch;
  data.instruction_pointer = 0x7f0000001000ull;
  for (auto& arg : data.args) arg = all_args;
  return data;
}

std::string describe(const seccomp_data& data) {
  std::string text = "nr " + std::to_string(data.nr) + " arch 0x";
  char hex[24];
  std::snprintf(hex, sizeof hex, "%x", data.arch);
  text += hex;
  text += " args";
  for (auto arg : data.args) {
    std::snprintf(hex, sizeof hex, " 0x%llx", static_cast<unsigned long long>(arg));
    text += hex;
  }
  return text;
}

// Runs `program` on `data` as the kernel's classic BPF interpreter does, checking what the
// kernel's filter checker checks (known opcodes, aligned 32-bit loads inside seccomp_data,
// scratch memory in range, jumps forward and inside the program, no division by a constant
// zero, a return at the end).
std::uint32_t run_program(const sock_fprog& program, const seccomp_data& data, const std::string& whose) {
  const std::size_t length = program.len;
  NSB_FUZZ_CHECK(length > 0 && length <= BPF_MAXINSNS, whose + ": program length " + std::to_string(length));
  NSB_FUZZ_CHECK(BPF_CLASS(program.filter[length - 1].code) == BPF_RET, whose + ": program does not end in a return");
  unsigned char bytes[sizeof(seccomp_data)];
  std::memcpy(bytes, &data, sizeof bytes);
  std::uint32_t a = 0;
  std::uint32_t x = 0;
  std::uint32_t memory[BPF_MEMWORDS] = {};
  std::size_t pc = 0;
  while (true) {
    NSB_FUZZ_CHECK(pc < length, whose + ": ran past the end at " + std::to_string(pc));
    const sock_filter& insn = program.filter[pc];
    // Only built when a check fails.
    auto at = [&, where = pc] {
      return whose + ": instruction " + std::to_string(where) + " (code " + std::to_string(insn.code) + ")";
    };
    const std::uint32_t k = insn.k;
    ++pc;
    switch (BPF_CLASS(insn.code)) {
      case BPF_LD:
      case BPF_LDX: {
        std::uint32_t value = 0;
        switch (BPF_MODE(insn.code)) {
          case BPF_ABS:
            NSB_FUZZ_CHECK(BPF_CLASS(insn.code) == BPF_LD && BPF_SIZE(insn.code) == BPF_W &&
                               k % 4 == 0 && k + 4 <= sizeof(seccomp_data),
                           at() + ": bad load from seccomp_data");
            std::memcpy(&value, bytes + k, 4);
            break;
          case BPF_IMM: value = k; break;
          case BPF_MEM:
            NSB_FUZZ_CHECK(k < BPF_MEMWORDS, at() + ": scratch memory out of range");
            value = memory[k];
            break;
          case BPF_LEN: value = sizeof(seccomp_data); break;
          default: NSB_FUZZ_CHECK(false, at() + ": unknown load mode");
        }
        (BPF_CLASS(insn.code) == BPF_LD ? a : x) = value;
        break;
      }
      case BPF_ST:
      case BPF_STX:
        NSB_FUZZ_CHECK(k < BPF_MEMWORDS, at() + ": scratch memory out of range");
        memory[k] = BPF_CLASS(insn.code) == BPF_ST ? a : x;
        break;
      case BPF_ALU: {
        const std::uint32_t operand = BPF_SRC(insn.code) == BPF_X ? x : k;
        switch (BPF_OP(insn.code)) {
          case BPF_ADD: a += operand; break;
          case BPF_SUB: a -= operand; break;
          case BPF_MUL: a *= operand; break;
          case BPF_DIV:
          case BPF_MOD:
            NSB_FUZZ_CHECK(BPF_SRC(insn.code) == BPF_X || k != 0, at() + ": division by constant zero");
            if (operand == 0) return 0;  // the kernel ends the program with 0 (SECCOMP_RET_KILL)
            a = BPF_OP(insn.code) == BPF_DIV ? a / operand : a % operand;
            break;
          case BPF_OR: a |= operand; break;
          case BPF_AND: a &= operand; break;
          case BPF_XOR: a ^= operand; break;
          case BPF_LSH: a = operand < 32 ? a << operand : 0; break;
          case BPF_RSH: a = operand < 32 ? a >> operand : 0; break;
          case BPF_NEG: a = 0u - a; break;
          default: NSB_FUZZ_CHECK(false, at() + ": unknown ALU operation");
        }
        break;
      }
      case BPF_JMP: {
        if (BPF_OP(insn.code) == BPF_JA) {
          NSB_FUZZ_CHECK(k < length - pc, at() + ": jump out of the program");
          pc += k;
          break;
        }
        const std::uint32_t operand = BPF_SRC(insn.code) == BPF_X ? x : k;
        bool taken = false;
        switch (BPF_OP(insn.code)) {
          case BPF_JEQ: taken = a == operand; break;
          case BPF_JGT: taken = a > operand; break;
          case BPF_JGE: taken = a >= operand; break;
          case BPF_JSET: taken = (a & operand) != 0; break;
          default: NSB_FUZZ_CHECK(false, at() + ": unknown jump");
        }
        NSB_FUZZ_CHECK(insn.jt < length - pc && insn.jf < length - pc, at() + ": jump out of the program");
        pc += taken ? insn.jt : insn.jf;
        break;
      }
      case BPF_RET:
        NSB_FUZZ_CHECK(BPF_RVAL(insn.code) == BPF_K || BPF_RVAL(insn.code) == BPF_A, at() + ": bad return");
        return BPF_RVAL(insn.code) == BPF_K ? k : a;
      case BPF_MISC:
        if (BPF_MISCOP(insn.code) == BPF_TAX) x = a;
        else if (BPF_MISCOP(insn.code) == BPF_TXA) a = x;
        else NSB_FUZZ_CHECK(false, at() + ": unknown misc operation");
        break;
      default: NSB_FUZZ_CHECK(false, at() + ": unknown instruction class");
    }
  }
}

bool allows(std::uint32_t verdict) { return (verdict & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ALLOW; }

std::uint32_t expected_action(const SyscallRule& rule) {
  if (rule.action == SyscallRule::Action::kKillProcess) return SECCOMP_RET_KILL_PROCESS;
  return SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(rule.error) & SECCOMP_RET_DATA);
}

// Whether `condition` holds for `arg`, as the loader asked for it: an EQ below 2^32 compares
// the low 32 bits (the kernel reads int arguments from them), everything else all 64 bits.
bool holds(const SyscallRule::Condition& condition, std::uint64_t arg) {
  using Op = SyscallRule::Op;
  switch (condition.op) {
    case Op::kEq:
      if (condition.value <= 0xFFFFFFFFu) return (arg & 0xFFFFFFFFu) == condition.value;
      return arg == condition.value;
    case Op::kNe: return arg != condition.value;
    case Op::kLt: return arg < condition.value;
    case Op::kLe: return arg <= condition.value;
    case Op::kGt: return arg > condition.value;
    case Op::kGe: return arg >= condition.value;
    case Op::kMaskedEq: return (arg & condition.mask) == condition.value;
  }
  return false;
}

bool matches(const SyscallRule& rule, const seccomp_data& data) {
  return std::all_of(rule.conditions.begin(), rule.conditions.end(), [&](const SyscallRule::Condition& c) {
    return c.index < 6 && holds(c, data.args[c.index]);
  });
}

// The base filter and the probes it refuses, computed once.
struct Base {
  std::optional<sandbox::SeccompProgram> program;
  std::vector<seccomp_data> refused;        // on x86_64, x32 and i386
  std::vector<seccomp_data> native_allowed;  // x86_64 calls with all-zero or all-ones args
};

const Base& base() {
  static const Base kBase = [] {
    Base out;
    auto compiled = sandbox::SeccompProgram::compile_base();
    NSB_FUZZ_CHECK(compiled.ok(), "the base filter does not compile");
    out.program.emplace(std::move(compiled.value()));
    const sock_fprog& program = out.program->program();
    const std::uint64_t kArgs[] = {0,
                                   0x10000000u,             // CLONE_NEWUSER
                                   0x10020000u,             // CLONE_NEWUSER | CLONE_NEWNS
                                   0x20000000u,             // CLONE_NEWPID
                                   0x40000000u,             // CLONE_NEWNET
                                   0x00000080u,             // CLONE_NEWTIME
                                   0x00020011u,             // CLONE_NEWNS | SIGCHLD
                                   0x5412u,                 // TIOCSTI
                                   0x541Cu,                 // TIOCLINUX
                                   0xFFFFFFFF00005412ull,   // TIOCSTI with the upper half set
                                   ~0ull};
    struct Abi {
      std::uint32_t arch;
      std::uint32_t bit;
      int count;
    };
    for (Abi abi : {Abi{AUDIT_ARCH_X86_64, 0, 600}, Abi{AUDIT_ARCH_X86_64, kX32Bit, 600},
                    Abi{AUDIT_ARCH_I386, 0, 460}}) {
      for (int nr = 0; nr < abi.count; ++nr) {
        for (std::uint64_t args : kArgs) {
          seccomp_data data = probe(abi.arch, static_cast<int>(static_cast<std::uint32_t>(nr) | abi.bit), args);
          bool allowed = allows(run_program(program, data, "base filter"));
          if (!allowed) out.refused.push_back(data);
          if (allowed && abi.bit == 0 && abi.arch == AUDIT_ARCH_X86_64 && (args == 0 || args == ~0ull)) {
            out.native_allowed.push_back(data);
          }
        }
      }
    }
    // The oracle needs teeth: the base filter refuses what DESIGN.md §2 lists.
    auto refused = [&](const char* name, std::uint64_t args) {
      int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
      return nr >= 0 && !allows(run_program(program, probe(AUDIT_ARCH_X86_64, nr, args), "base filter"));
    };
    NSB_FUZZ_CHECK(refused("unshare", 0x10000000u) && refused("unshare", 0x20000000u) &&
                       refused("clone", 0x40000011u) && refused("setns", 0) && refused("clone3", 0) &&
                       refused("keyctl", 0) &&
                       refused("io_uring_setup", 0) && refused("bpf", 0) && refused("ptrace", 0) &&
                       refused("ioctl", 0x5412u) && refused("ioctl", 0xFFFFFFFF00005412ull) &&
                       !refused("unshare", 0) && !refused("getpid", 0),
                   "the base filter does not do what DESIGN.md §2 says");
    NSB_FUZZ_CHECK(!allows(run_program(program, probe(AUDIT_ARCH_AARCH64, 0, 0), "base filter")),
                   "the base filter allows a foreign architecture");
    return out;
  }();
  return kBase;
}

// Argument values worth probing for the rules of one syscall: each condition's value, its
// neighbours, the value with the other half flipped, and the extremes.
std::vector<std::uint64_t> candidates(const std::vector<const SyscallRule*>& rules, unsigned index) {
  std::vector<std::uint64_t> values = {0, ~0ull, 1};
  for (const SyscallRule* rule : rules) {
    for (const SyscallRule::Condition& c : rule->conditions) {
      if (c.index != index) continue;
      const std::uint64_t upper_half = 0xFFFFFFFF00000000u;
      const std::uint64_t lower_half = 0xFFFFFFFFu;
      for (std::uint64_t v : {c.value, c.value + 1, c.value - 1, c.value ^ upper_half, c.value & lower_half,
                              c.value | ~c.mask, c.mask}) {
        values.push_back(v);
      }
    }
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

// A small deterministic generator, so that a failing input fails every time.
std::uint64_t mix(std::uint64_t value) {
  value ^= value >> 33;
  value *= 0xff51afd7ed558ccdull;
  value ^= value >> 33;
  value *= 0xc4ceb9fe1a85ec53ull;
  return value ^ (value >> 33);
}

}  // namespace

void check_seccomp_program(const policy::CompiledProfile& profile) {
  NSB_FUZZ_CHECK(profile.seccomp != nullptr, "profile " + profile.name + " has no seccomp program");
  const sock_fprog& program = profile.seccomp->program();
  const std::string whose = "profile " + profile.name;
  const Base& reference = base();

  // 1. Policy can only tighten.
  for (const seccomp_data& data : reference.refused) {
    NSB_FUZZ_CHECK(!allows(run_program(program, data, whose)),
                   whose + " allows what the base filter refuses: " + describe(data));
  }
  NSB_FUZZ_CHECK(!allows(run_program(program, probe(AUDIT_ARCH_AARCH64, 0, 0), whose)),
                 whose + " allows a foreign architecture");

  // 2. The profile's rules apply, on the native ABI.
  std::vector<std::pair<int, std::vector<const SyscallRule*>>> by_syscall;
  for (const SyscallRule& rule : profile.syscall_rules) {
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, rule.syscall.c_str());
    if (nr < 0) continue;  // not a native syscall (e.g. vm86): libseccomp adds it for i386 only
    auto it = std::find_if(by_syscall.begin(), by_syscall.end(), [&](const auto& entry) { return entry.first == nr; });
    if (it == by_syscall.end()) it = by_syscall.insert(by_syscall.end(), {nr, {}});
    it->second.push_back(&rule);
  }
  for (const auto& [nr, rules] : by_syscall) {
    std::vector<std::uint64_t> values[6];
    for (unsigned i = 0; i < 6; ++i) values[i] = candidates(rules, i);
    std::vector<seccomp_data> probes;
    // Each rule with its conditions met exactly, then combinations of the candidates.
    for (const SyscallRule* rule : rules) {
      seccomp_data data = probe(AUDIT_ARCH_X86_64, nr, 0);
      for (const SyscallRule::Condition& c : rule->conditions) {
        if (c.index < 6) data.args[c.index] = c.op == SyscallRule::Op::kNe ? ~c.value : c.value;
      }
      probes.push_back(data);
    }
    for (std::uint64_t n = 0; n < 48; ++n) {
      seccomp_data data = probe(AUDIT_ARCH_X86_64, nr, 0);
      for (unsigned i = 0; i < 6; ++i) data.args[i] = values[i][mix(n * 8 + i + static_cast<unsigned>(nr)) % values[i].size()];
      probes.push_back(data);
    }
    for (const seccomp_data& data : probes) {
      std::uint32_t verdict = run_program(program, data, whose);
      bool base_refuses = !allows(run_program(reference.program->program(), data, "base filter"));
      std::vector<const SyscallRule*> matching;
      for (const SyscallRule* rule : rules) {
        if (matches(*rule, data)) matching.push_back(rule);
      }
      if (base_refuses || !matching.empty()) {
        NSB_FUZZ_CHECK(!allows(verdict), whose + " allows a call its rule for " + rules.front()->syscall +
                                             " refuses: " + describe(data));
      } else {
        NSB_FUZZ_CHECK(allows(verdict), whose + " refuses a call no rule matches: " + describe(data));
      }
      if (!base_refuses && matching.size() == 1) {
        std::uint32_t want = expected_action(*matching.front());
        NSB_FUZZ_CHECK((verdict & ~SECCOMP_RET_DATA) == (want & ~SECCOMP_RET_DATA) &&
                           (want == SECCOMP_RET_KILL_PROCESS || verdict == want),
                       whose + " gives action " + std::to_string(verdict) + " instead of " +
                           std::to_string(want) + " for " + describe(data));
      }
    }
  }

  // 3. Nothing else is refused on the native ABI.
  for (const seccomp_data& data : reference.native_allowed) {
    bool named = std::any_of(by_syscall.begin(), by_syscall.end(),
                             [&](const auto& entry) { return entry.first == data.nr; });
    if (named) continue;
    NSB_FUZZ_CHECK(allows(run_program(program, data, whose)),
                   whose + " refuses a call no rule names: " + describe(data));
  }
}

}  // namespace nsbroker::fuzz
