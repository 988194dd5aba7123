// fork → setns → exec, always from one long-lived thread.
// PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, so forking
// from a pool thread that the runtime may retire would kill children early. One
// dedicated spawner thread, alive as long as the process, forks them all.
#define _GNU_SOURCE
#include "CNetfault.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t caller_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spawn_cond = PTHREAD_COND_INITIALIZER;
static const nf_spawn_request *pending;
static pid_t spawn_result;
static bool spawn_done;
static pthread_once_t spawner_once = PTHREAD_ONCE_INIT;

// Runs in the child: no allocation, only async-signal-safe calls.
static _Noreturn void child(const nf_spawn_request *r, int report_fd, pid_t parent) {
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The parent may have died between fork and prctl: then nobody will signal us.
    if (getppid() != parent) _exit(127);
    setpgid(0, 0);
    if (r->netns_fd >= 0 && setns(r->netns_fd, CLONE_NEWNET) != 0) goto fail;
    int input_fd = r->stdin_fd > 0 ? r->stdin_fd : open("/dev/null", O_RDONLY);
    if (input_fd < 0 || dup2(input_fd, 0) < 0) goto fail;
    if (r->stdout_fd >= 0 && dup2(r->stdout_fd, 1) < 0) goto fail;
    if (r->stderr_fd >= 0 && dup2(r->stderr_fd, 2) < 0) goto fail;
    if (r->peer) {
        // No exec, so O_CLOEXEC does nothing: close every other fd, or this child
        // would hold the pipes of processes started concurrently, and their
        // readers would never see end of file. Closing report_fd says "started".
        syscall(SYS_close_range, 3, ~0U, 0);
        nf_peer_run(r->peer, r->peer_t0_ns);
    }
    if (r->cwd && chdir(r->cwd) != 0) goto fail;
    // Everything but report_fd (already O_CLOEXEC) closes at exec, even fds
    // another thread opened without O_CLOEXEC.
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    execve(r->path, r->argv, r->envp);
fail:;
    int err = errno;
    (void)!write(report_fd, &err, sizeof err);
    _exit(127);
}

static pid_t fork_one(const nf_spawn_request *r) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(report[0]);
        close(report[1]);
        return -err;
    }
    if (pid == 0) child(r, report[1], parent);
    close(report[1]);
    int child_errno = 0;
    ssize_t n;
    do { n = read(report[0], &child_errno, sizeof child_errno); } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == sizeof child_errno) {
        int status;
        waitpid(pid, &status, 0);
        return -child_errno;
    }
    return pid;
}

static void *spawner(void *unused) {
    (void)unused;
    pthread_mutex_lock(&spawn_lock);
    for (;;) {
        while (pending == NULL) pthread_cond_wait(&spawn_cond, &spawn_lock);
        spawn_result = fork_one(pending);
        pending = NULL;
        spawn_done = true;
        pthread_cond_broadcast(&spawn_cond);
    }
    return NULL;
}

static void start_spawner(void) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&thread, &attr, spawner, NULL);
    pthread_attr_destroy(&attr);
}

pid_t nf_spawn(const nf_spawn_request *request) {
    pthread_once(&spawner_once, start_spawner);
    pthread_mutex_lock(&caller_lock);  // one request in flight at a time
    pthread_mutex_lock(&spawn_lock);
    pending = request;
    spawn_done = false;
    pthread_cond_broadcast(&spawn_cond);
    while (!spawn_done) pthread_cond_wait(&spawn_cond, &spawn_lock);
    pid_t result = spawn_result;
    pthread_mutex_unlock(&spawn_lock);
    pthread_mutex_unlock(&caller_lock);
    return result;
}
