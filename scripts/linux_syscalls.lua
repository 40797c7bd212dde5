-- linux_syscalls.lua — one log line per system call of a 64-bit Linux
-- guest: its number, name and first four arguments, and per-call counts
-- when the guest powers off.  A hidden breakpoint (bp.add: an execute-only
-- EPT view holds the int3, the kernel reading its text sees its own bytes)
-- sits on the entry IA32_LSTAR names, entry_SYSCALL_64, where SYSCALL lands
-- with the number in RAX and the arguments in RDI, RSI, RDX, R10 (the
-- x86-64 system call convention; R10 for RCX, which SYSCALL overwrites).
--
-- LSTAR is not in the VMCS and its writes do not exit: the processor holds
-- the guest's value (hv.msr).  Until the kernel has written it, a hook on
-- every exit looks once per exit, then sets the breakpoint and goes.
--
-- Arguments: `limit=N` lines at most (default 2000; the counts go on),
-- `quiet` (counts only).
--
--   make run GUEST=build/linux/vmlinux SCRIPTS="scripts/linux_syscalls.lua limit=500"

local LSTAR = 0xc0000082
local limit, quiet = 2000, false
for _, word in ipairs({ ... }) do
  local n = word:match("^limit=(%d+)$")
  if n then
    limit = tonumber(n)
  elseif word == "quiet" then
    quiet = true
  else
    error("linux_syscalls: limit=N or quiet, not " .. word)
  end
end

-- x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
local NAMES = {
  [0] = "read", "write", "open", "close", "stat", "fstat", "lstat", "poll", "lseek", "mmap",
  "mprotect", "munmap", "brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "pread64",
  "pwrite64", "readv", "writev", "access", "pipe", "select", "sched_yield", "mremap", "msync",
  "mincore", "madvise", "shmget", "shmat", "shmctl", "dup", "dup2", "pause", "nanosleep",
  "getitimer", "alarm", "setitimer", "getpid", "sendfile", "socket", "connect", "accept", "sendto",
  "recvfrom", "sendmsg", "recvmsg", "shutdown", "bind", "listen", "getsockname", "getpeername",
  "socketpair", "setsockopt", "getsockopt", "clone", "fork", "vfork", "execve", "exit", "wait4",
  "kill", "uname", "semget", "semop", "semctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl",
  "fcntl", "flock", "fsync", "fdatasync", "truncate", "ftruncate", "getdents", "getcwd", "chdir",
  "fchdir", "rename", "mkdir", "rmdir", "creat", "link", "unlink", "symlink", "readlink", "chmod",
  "fchmod", "chown", "fchown", "lchown", "umask", "gettimeofday", "getrlimit", "getrusage",
  "sysinfo", "times", "ptrace", "getuid", "syslog", "getgid", "setuid", "setgid", "geteuid",
  "getegid", "setpgid", "getppid", "getpgrp", "setsid", "setreuid", "setregid", "getgroups",
  "setgroups", "setresuid", "getresuid", "setresgid", "getresgid", "getpgid", "setfsuid",
  "setfsgid", "getsid", "capget", "capset", "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo",
  "rt_sigsuspend", "sigaltstack", "utime", "mknod", "uselib", "personality", "ustat", "statfs",
  "fstatfs", "sysfs", "getpriority", "setpriority", "sched_setparam", "sched_getparam",
  "sched_setscheduler", "sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min",
  "sched_rr_get_interval", "mlock", "munlock", "mlockall", "munlockall", "vhangup", "modify_ldt",
  "pivot_root", "_sysctl", "prctl", "arch_prctl", "adjtimex", "setrlimit", "chroot", "sync", "acct",
  "settimeofday", "mount", "umount2", "swapon", "swapoff", "reboot", "sethostname",
  "setdomainname", "iopl", "ioperm", "create_module", "init_module", "delete_module",
  "get_kernel_syms", "query_module", "quotactl", "nfsservctl", "getpmsg", "putpmsg", "afs_syscall",
  "tuxcall", "security", "gettid", "readahead", "setxattr", "lsetxattr", "fsetxattr", "getxattr",
  "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr",
  "lremovexattr", "fremovexattr", "tkill", "time", "futex", "sched_setaffinity",
  "sched_getaffinity", "set_thread_area", "io_setup", "io_destroy", "io_getevents", "io_submit",
  "io_cancel", "get_thread_area", "lookup_dcookie", "epoll_create", "epoll_ctl_old",
  "epoll_wait_old", "remap_file_pages", "getdents64", "set_tid_address", "restart_syscall",
  "semtimedop", "fadvise64", "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun",
  "timer_delete", "clock_settime", "clock_gettime", "clock_getres", "clock_nanosleep",
  "exit_group", "epoll_wait", "epoll_ctl", "tgkill", "utimes", "vserver", "mbind",
  "set_mempolicy", "get_mempolicy", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive",
  "mq_notify", "mq_getsetattr", "kexec_load", "waitid", "add_key", "request_key", "keyctl",
  "ioprio_set", "ioprio_get", "inotify_init", "inotify_add_watch", "inotify_rm_watch",
  "migrate_pages", "openat", "mkdirat", "mknodat", "fchownat", "futimesat", "newfstatat",
  "unlinkat", "renameat", "linkat", "symlinkat", "readlinkat", "fchmodat", "faccessat",
  "pselect6", "ppoll", "unshare", "set_robust_list", "get_robust_list", "splice", "tee",
  "sync_file_range", "vmsplice", "move_pages", "utimensat", "epoll_pwait", "signalfd",
  "timerfd_create", "eventfd", "fallocate", "timerfd_settime", "timerfd_gettime", "accept4",
  "signalfd4", "eventfd2", "epoll_create1", "dup3", "pipe2", "inotify_init1", "preadv", "pwritev",
  "rt_tgsigqueueinfo", "perf_event_open", "recvmmsg", "fanotify_init", "fanotify_mark",
  "prlimit64", "name_to_handle_at", "open_by_handle_at", "clock_adjtime", "syncfs", "sendmmsg",
  "setns", "getcpu", "process_vm_readv", "process_vm_writev", "kcmp", "finit_module",
  "sched_setattr", "sched_getattr", "renameat2", "seccomp", "getrandom", "memfd_create",
  "kexec_file_load", "bpf", "execveat", "userfaultfd", "membarrier", "mlock2", "copy_file_range",
  "preadv2", "pwritev2", "pkey_mprotect", "pkey_alloc", "pkey_free", "statx", "io_pgetevents",
  "rseq",
  [424] = "pidfd_send_signal", [425] = "io_uring_setup", [426] = "io_uring_enter",
  [427] = "io_uring_register", [428] = "open_tree", [429] = "move_mount", [430] = "fsopen",
  [431] = "fsconfig", [432] = "fsmount", [433] = "fspick", [434] = "pidfd_open", [435] = "clone3",
  [436] = "close_range", [437] = "openat2", [438] = "pidfd_getfd", [439] = "faccessat2",
  [440] = "process_madvise", [441] = "epoll_pwait2", [442] = "mount_setattr",
  [443] = "quotactl_fd", [444] = "landlock_create_ruleset", [445] = "landlock_add_rule",
  [446] = "landlock_restrict_self", [447] = "memfd_secret", [448] = "process_mrelease",
  [449] = "futex_waitv", [450] = "set_mempolicy_home_node",
}
if NAMES[334] ~= "rseq" or NAMES[59] ~= "execve" or NAMES[169] ~= "reboot" then
  error("linux_syscalls: the name table is out of step")
end

local function name(nr)
  return NAMES[nr] or ("syscall_" .. nr)
end

local counts, total, printed = {}, 0, 0

local function on_syscall(addr, vcpu)
  local nr = regs.rax
  counts[nr] = (counts[nr] or 0) + 1
  total = total + 1
  if quiet or printed >= limit then return nil end
  printed = printed + 1
  print(string.format("syscall %d %s(0x%x, 0x%x, 0x%x, 0x%x) vcpu %d", nr, name(nr),
    regs.rdi, regs.rsi, regs.rdx, regs.r10, vcpu))
  if printed == limit then print("linux_syscalls: " .. limit .. " lines; counting on quietly") end
end

-- Waits for the kernel's WRMSR to LSTAR (syscall_init), then arms.
local waiting
waiting = hv.on_exit("*", function(e)
  local entry = hv.msr(LSTAR)
  if entry == 0 then return nil end
  hv.off(waiting)
  bp.add(entry, on_syscall)
  print(string.format("linux_syscalls: LSTAR = 0x%x: hidden breakpoint set there (exit %s)", entry, e.name))
end)

hv.on_poweroff(function(how)
  local nrs = {}
  for nr in pairs(counts) do nrs[#nrs + 1] = nr end
  table.sort(nrs, function(a, b)
    if counts[a] ~= counts[b] then return counts[a] > counts[b] end
    return a < b
  end)
  print(string.format("linux_syscalls: %d system calls, %d kinds, at power-off (%s):", total, #nrs, how))
  for _, nr in ipairs(nrs) do
    print(string.format("  %-24s %6d", name(nr) .. " (" .. nr .. ")", counts[nr]))
  end
end)
print("linux_syscalls: waiting for the kernel to write IA32_LSTAR")
