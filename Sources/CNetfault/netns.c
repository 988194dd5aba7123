// Namespace-bound file descriptors, made on threads that exist only for that.
// setns() changes the calling thread's namespace for good; doing it on a thread
// that exits right after keeps every other thread (Swift's executors included)
// in the orchestrator's own namespace.
#define _GNU_SOURCE
#include "CNetfault.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

typedef struct {
    int netns_fd;      // the namespace to enter first, -1: stay in the orchestrator's
    bool make_new;     // then make a new namespace (created from the one entered)
    int (*work)(void *);
    void *arg;
    int result;
} ns_job;

static void *ns_thread(void *p) {
    ns_job *job = p;
    if (job->netns_fd >= 0 && setns(job->netns_fd, CLONE_NEWNET) != 0) {
        job->result = -errno;
        return NULL;
    }
    if (job->make_new && unshare(CLONE_NEWNET) != 0) {
        job->result = -errno;
        return NULL;
    }
    job->result = job->work(job->arg);
    return NULL;
}

static int run_on_netns_thread(int enter_fd, bool make_new, int (*work)(void *), void *arg) {
    ns_job job = { enter_fd, make_new, work, arg, -EINVAL };
    pthread_t thread;
    int err = pthread_create(&thread, NULL, ns_thread, &job);
    if (err != 0) return -err;
    pthread_join(thread, NULL);
    return job.result;
}

static int run_in_netns(int netns_fd, int (*work)(void *), void *arg) {
    return run_on_netns_thread(netns_fd, false, work, arg);
}

static int open_own_netns(void *unused) {
    (void)unused;
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

// Writes each (path, value) pair of a NULL-terminated list; 0 or -errno.
static int write_pairs(char *const *list) {
    for (; list != NULL && list[0] != NULL && list[1] != NULL; list += 2) {
        int fd = open(list[0], O_WRONLY | O_CLOEXEC);
        if (fd < 0) return -errno;
        size_t length = strlen(list[1]);
        ssize_t written = write(fd, list[1], length);
        int error = written < 0 ? errno : EIO;
        close(fd);
        if (written != (ssize_t)length) return -error;
    }
    return 0;
}

static int write_sysctls_then_open(void *p) {
    int result = write_pairs(p);
    return result < 0 ? result : open_own_netns(NULL);
}

int nf_netns_create(int parent_fd, char *const *sysctl_writes) {
    return run_on_netns_thread(parent_fd, true, write_sysctls_then_open, (void *)sysctl_writes);
}

// sysfs shows the network devices of the namespace that mounted it, so the thread (already in
// the namespace) takes a mount namespace of its own, stops propagation back to the machine's,
// and mounts a sysfs over /sys there, as `ip netns exec` does; all of it ends with the thread.
static int write_sysfs(void *p) {
    if (unshare(CLONE_NEWNS) != 0) return -errno;
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) return -errno;
    if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) return -errno;
    return write_pairs(p);
}

int nf_netns_sysfs_write(int netns_fd, char *const *writes) {
    return run_in_netns(netns_fd, write_sysfs, (void *)writes);
}

typedef struct { int domain, type, protocol; } socket_args;

static int make_socket(void *p) {
    socket_args *a = p;
    int fd = socket(a->domain, a->type | SOCK_CLOEXEC, a->protocol);
    return fd < 0 ? -errno : fd;
}

int nf_socket_in_netns(int netns_fd, int domain, int type, int protocol) {
    socket_args args = { domain, type, protocol };
    return run_in_netns(netns_fd, make_socket, &args);
}

typedef struct { const char *path; int flags; } open_args;

static int open_path(void *p) {
    open_args *a = p;
    int fd = open(a->path, a->flags | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int nf_open_in_netns(int netns_fd, const char *path, int flags) {
    open_args args = { path, flags };
    return run_in_netns(netns_fd, open_path, &args);
}

int nf_netns_pin(int netns_fd, const char *target) {
    char source[64];
    snprintf(source, sizeof source, "/proc/self/fd/%d", netns_fd);
    return mount(source, target, NULL, MS_BIND, NULL) == 0 ? 0 : -errno;
}

int nf_ethtool_set(int sockfd, const char *ifname, uint32_t cmd, uint32_t value) {
    struct ethtool_value ev = { .cmd = cmd, .data = value };
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    ifr.ifr_data = (void *)&ev;
    return ioctl(sockfd, SIOCETHTOOL, &ifr) == 0 ? 0 : -errno;
}

// ETHTOOL_* are macros in a header that clashes with Glibc's net/if.h in Swift.
uint32_t nf_ethtool_cmd_stso(void) { return ETHTOOL_STSO; }
uint32_t nf_ethtool_cmd_sgso(void) { return ETHTOOL_SGSO; }
uint32_t nf_ethtool_cmd_sgro(void) { return ETHTOOL_SGRO; }
uint32_t nf_ethtool_cmd_stxcsum(void) { return ETHTOOL_STXCSUM; }
uint32_t nf_ethtool_cmd_srxcsum(void) { return ETHTOOL_SRXCSUM; }

const char *nf_errno_name(int value) { return strerrorname_np(value); }

int nf_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
