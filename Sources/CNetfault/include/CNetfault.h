#ifndef CNETFAULT_H
#define CNETFAULT_H

// What Swift cannot import or should not do itself: libmnl, the uapi netlink
// headers, one prefixed function per C macro, namespace-bound file descriptors
// made on throw-away threads, and fork→setns→exec (or the scripted peer of
// NetfaultPeer, run in the forked child).

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/veth.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

// MARK: - Netlink macros (function-like macros are not imported by Swift)

/// NLMSG_ALIGN: netlink messages are padded to 4 bytes.
static inline uint32_t nf_nlmsg_align(uint32_t len) { return NLMSG_ALIGN(len); }
/// NLMSG_HDRLEN: the aligned size of struct nlmsghdr.
static inline uint32_t nf_nlmsg_hdrlen(void) { return NLMSG_HDRLEN; }
/// NLA_ALIGN: attributes are padded to 4 bytes.
static inline uint32_t nf_nla_align(uint32_t len) { return NLA_ALIGN(len); }
/// NLA_HDRLEN: the aligned size of struct nlattr.
static inline uint32_t nf_nla_hdrlen(void) { return NLA_HDRLEN; }
/// NLA_TYPE_MASK: strips NLA_F_NESTED and NLA_F_NET_BYTEORDER from nla_type.
static inline uint16_t nf_nla_type(uint16_t type) { return type & NLA_TYPE_MASK; }
/// MNL_SOCKET_BUFFER_SIZE depends on the page size at run time.
static inline size_t nf_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }

// MARK: - Namespaces (setns only on threads that exit right after)

/// Creates a network namespace on a throw-away thread (unshare(CLONE_NEWNET))
/// and returns an fd that keeps it alive, or -errno. With `parent_fd` ≥ 0 the
/// thread enters that namespace first, so the new one is created from it (and
/// takes its TCP hash table size from the parent's tcp_child_ehash_entries).
/// `sysctl_writes` (NULL, or path, value, path, value, …, NULL) are written
/// inside the new namespace on the same thread, before its fd is opened.
/// The caller never changes namespace; closing the last fd destroys it.
int nf_netns_create(int parent_fd, char *const *sysctl_writes);

/// Opens a socket inside the namespace of `netns_fd` on a throw-away thread.
/// Sockets keep the namespace they were created in, so the fd may then be used
/// from any thread. Returns the fd or -errno.
int nf_socket_in_netns(int netns_fd, int domain, int type, int protocol);

/// Opens `path` (e.g. /proc/thread-self/net/snmp or /proc/sys/net/...) from a
/// throw-away thread inside the namespace. Returns the fd or -errno.
int nf_open_in_netns(int netns_fd, const char *path, int flags);

/// Writes (path, value, path, value, …, NULL) under /sys as the namespace sees it (its own
/// links' /sys/class/net/…), on a throw-away thread that enters the namespace and mounts a
/// sysfs of it in a mount namespace of its own. Returns 0 or -errno.
int nf_netns_sysfs_write(int netns_fd, char *const *writes);

/// Bind-mounts the namespace onto `target` (an existing empty file), the way
/// `ip netns add` pins one under /run/netns. Returns 0 or -errno.
int nf_netns_pin(int netns_fd, const char *target);

// MARK: - CPU identification

/// The hypervisor's CPUID vendor signature (leaf 0x40000000: "KVMKVMKVM", QEMU's
/// emulation "TCGTCGTCGTCG") into `out` (13 bytes, NUL-terminated); returns 1, or 0 when
/// CPUID's hypervisor bit is clear or this is not x86. __get_cpuid and __cpuid are macros
/// and builtins of <cpuid.h>, which Swift cannot call.
int nf_cpuid_hypervisor(char out[13]);

// MARK: - Link offloads

/// Legacy ethtool ioctl (SIOCETHTOOL) setting one on/off value such as
/// ETHTOOL_STSO, ETHTOOL_SGSO or ETHTOOL_SGRO on `ifname`; `sockfd` is any
/// socket of the link's namespace. Returns 0 or -errno.
int nf_ethtool_set(int sockfd, const char *ifname, uint32_t cmd, uint32_t value);
uint32_t nf_ethtool_cmd_stso(void);
uint32_t nf_ethtool_cmd_sgso(void);
uint32_t nf_ethtool_cmd_sgro(void);
uint32_t nf_ethtool_cmd_stxcsum(void);
uint32_t nf_ethtool_cmd_srxcsum(void);

// MARK: - Processes

// The scripted peer that a child may run instead of exec'ing.
#include <NetfaultPeer.h>

typedef struct {
    /// Namespace to enter before exec, or -1 to stay.
    int netns_fd;
    /// Absolute path of the program (ignored when `peer` is set).
    const char *path;
    char *const *argv;
    char *const *envp;
    /// When set, the child runs this peer script instead of exec'ing.
    const nf_peer_script *peer;
    int64_t peer_t0_ns;
    /// Become fd 1 and 2 in the child.
    int stdout_fd;
    int stderr_fd;
    /// Becomes fd 0 in the child; 0 or less means /dev/null (the orchestrator never
    /// passes its own standard input, so a zeroed request reads nothing).
    int stdin_fd;
    /// Directory to change to before exec, or NULL to stay.
    const char *cwd;
} nf_spawn_request;

/// fork → setns → exec. The child gets its own process group, default signal
/// dispositions, and PR_SET_PDEATHSIG(SIGKILL) so it dies with the orchestrator.
/// All forks happen on one long-lived thread: the death signal follows the
/// thread that forked, not the process. Returns the pid, or -errno when fork,
/// setns or exec failed (the child's errno comes back through a CLOEXEC pipe).
pid_t nf_spawn(const nf_spawn_request *request);

// MARK: - Cleanup on crash (cleanup.c)

/// Records a pin (a /run/netns path) or a child's process group for
/// `nf_cleanup_now`. Return 0, -ENOSPC when the table is full, or -ENAMETOOLONG.
int nf_cleanup_add_pin(const char *path);
void nf_cleanup_remove_pin(const char *path);
int nf_cleanup_add_group(pid_t group);
void nf_cleanup_remove_group(pid_t group);

/// The marker file listing this process's pins (and its directory), removed by
/// `nf_cleanup_now` too. Returns 0 or -ENAMETOOLONG.
int nf_cleanup_set_marker(const char *directory, const char *path);

/// Async-signal-safe: SIGKILL to every recorded process group, unmount and unlink
/// every recorded pin, forget them, and remove the marker (and its directory when empty).
void nf_cleanup_now(void);

/// Whether `nf_cleanup_now` ran: the marker must not be written again.
int nf_cleanup_started(void);

/// On SIGSEGV, SIGBUS, SIGILL (Swift traps), SIGTRAP, SIGABRT and SIGFPE: run
/// `nf_cleanup_now`, then let the previous handler or the default action have it.
void nf_cleanup_install_crash_handlers(void);

/// strerrorname_np ("ECONNREFUSED"), which glibc declares only under _GNU_SOURCE.
const char *nf_errno_name(int value);

/// pipe2(O_CLOEXEC), which glibc declares only under _GNU_SOURCE.
int nf_pipe_cloexec(int fds[2]);

// MARK: - Pipes and byte search (pipes.c): what glibc declares only under _GNU_SOURCE

/// fcntl(F_SETPIPE_SZ). Returns the new capacity or -errno.
int nf_set_pipe_size(int fd, int bytes);

/// tee(2): duplicates up to `length` bytes from pipe `in` to pipe `out` without consuming
/// or copying them (blocks until `in` has data). Returns bytes, 0 at end of file, or -errno.
long nf_tee(int in, int out, unsigned long length);

/// splice(2) with SPLICE_F_MOVE between a pipe and a file (or /dev/null): moves up to
/// `length` bytes without copying them through user memory. Returns bytes, 0 at end of
/// file, or -errno.
long nf_splice(int in, int out, unsigned long length);

/// memmem(3), which glibc declares only under _GNU_SOURCE: 1 when `needle` occurs in `haystack`.
int nf_contains(const void *haystack, unsigned long haystack_length, const void *needle, unsigned long needle_length);

// MARK: - nf_tables rules (NftablesQueueRules)

// Self-contained uapi headers (they include nothing): the nf_tables message,
// attribute and expression enums, and nft_compat's target attributes.
// linux/netfilter.h (NF_ACCEPT, hooks, NFPROTO_*) is not included: it pulls in
// linux/in.h next to glibc's netinet/in.h; Nfnetlink.swift spells those out.
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>

// MARK: - NFQUEUE and packet injection (nfq helper)

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/netfilter/nfnetlink_queue.h>

/// struct mmsghdr, which glibc declares only under _GNU_SOURCE; same layout.
struct nf_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// recvmmsg(2) without a timeout, which glibc declares only under _GNU_SOURCE:
/// the raw system call. Returns the number of messages, or -1 with errno set.
static inline int nf_recvmmsg(int fd, struct nf_mmsghdr *messages, unsigned int count, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, messages, count, flags, (void *)0);
}

// MARK: - Packet capture (libpcap)

#include <pcap/pcap.h>

/// Opens and activates a libpcap capture of the "any" device inside the
/// namespace of `netns_fd` (on a throw-away thread: the AF_PACKET socket keeps
/// the namespace it was made in), with nanosecond kernel timestamps and the
/// LINUX_SLL2 link type, which records each packet's interface and direction.
/// Returns NULL with a message in `errbuf` (PCAP_ERRBUF_SIZE bytes).
pcap_t *nf_pcap_open_any_in_netns(int netns_fd, int snaplen, int buffer_bytes, int timeout_ms, char *errbuf);

#endif
