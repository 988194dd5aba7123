// What a run leaves outside its namespaces' fds — pins under /run/netns and child
// process groups — kept where a signal handler may read it: fixed arrays, no
// allocation. A crash (SIGSEGV, SIGABRT, a Swift trap's SIGILL …) removes them
// before the process dies, then lets the previous handler (Swift's backtracer, or
// the default action) have the signal.
#define _GNU_SOURCE
#include "CNetfault.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define NF_CLEANUP_PINS 1024
#define NF_CLEANUP_PIN_LENGTH 256
#define NF_CLEANUP_GROUPS 4096

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
// A slot is in use while its first byte is not 0; the handler reads without the
// lock (it may interrupt a writer), so a path is complete before it is published.
static char pins[NF_CLEANUP_PINS][NF_CLEANUP_PIN_LENGTH];
static volatile pid_t groups[NF_CLEANUP_GROUPS];
// Set once cleanup began: from then on the marker is not written again (threads that see
// their child die would otherwise rewrite it before the process ends).
static volatile sig_atomic_t cleaning_up;
// The marker file that lists this process's pins for `netfault cleanup`, and its directory.
static char marker[NF_CLEANUP_PIN_LENGTH];
static char marker_directory[NF_CLEANUP_PIN_LENGTH];

int nf_cleanup_set_marker(const char *directory, const char *path) {
    if (strlen(directory) >= sizeof marker_directory || strlen(path) >= sizeof marker) return -ENAMETOOLONG;
    pthread_mutex_lock(&table_lock);
    strcpy(marker_directory, directory);
    strcpy(marker, path);
    pthread_mutex_unlock(&table_lock);
    return 0;
}

int nf_cleanup_add_pin(const char *path) {
    size_t length = strlen(path);
    if (length == 0 || length >= NF_CLEANUP_PIN_LENGTH) return -ENAMETOOLONG;
    pthread_mutex_lock(&table_lock);
    int result = -ENOSPC;
    for (int i = 0; i < NF_CLEANUP_PINS; i++) {
        if (pins[i][0] != 0) continue;
        memcpy(pins[i] + 1, path + 1, length);  // the rest, with its NUL, first
        __atomic_store_n(&pins[i][0], path[0], __ATOMIC_RELEASE);
        result = 0;
        break;
    }
    pthread_mutex_unlock(&table_lock);
    return result;
}

void nf_cleanup_remove_pin(const char *path) {
    pthread_mutex_lock(&table_lock);
    for (int i = 0; i < NF_CLEANUP_PINS; i++) {
        if (pins[i][0] != 0 && strcmp(pins[i], path) == 0) __atomic_store_n(&pins[i][0], 0, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&table_lock);
}

int nf_cleanup_add_group(pid_t group) {
    pthread_mutex_lock(&table_lock);
    int result = -ENOSPC;
    for (int i = 0; i < NF_CLEANUP_GROUPS; i++) {
        if (groups[i] != 0) continue;
        groups[i] = group;
        result = 0;
        break;
    }
    pthread_mutex_unlock(&table_lock);
    return result;
}

void nf_cleanup_remove_group(pid_t group) {
    pthread_mutex_lock(&table_lock);
    for (int i = 0; i < NF_CLEANUP_GROUPS; i++) {
        if (groups[i] == group) groups[i] = 0;
    }
    pthread_mutex_unlock(&table_lock);
}

int nf_cleanup_started(void) { return cleaning_up; }

void nf_cleanup_now(void) {
    cleaning_up = 1;
    for (int i = 0; i < NF_CLEANUP_GROUPS; i++) {
        pid_t group = groups[i];
        if (group > 0) kill(-group, SIGKILL);
        groups[i] = 0;
    }
    for (int i = 0; i < NF_CLEANUP_PINS; i++) {
        if (__atomic_load_n(&pins[i][0], __ATOMIC_ACQUIRE) == 0) continue;
        umount2(pins[i], MNT_DETACH);
        unlink(pins[i]);
        pins[i][0] = 0;
    }
    if (marker[0] != 0) {
        unlink(marker);
        rmdir(marker_directory);  // only when no other run's marker is in it
    }
}

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE};
#define NF_CRASH_SIGNALS (sizeof crash_signals / sizeof crash_signals[0])
static struct sigaction previous[NF_CRASH_SIGNALS];

static void on_crash(int signal_number, siginfo_t *info, void *context) {
    (void)context;
    nf_cleanup_now();
    // Hand the signal on: restore what was there, then either return so the faulting
    // instruction runs again under it, or — for a signal that was sent (kill, abort)
    // or a trap that returning would step past — send it again.
    for (size_t i = 0; i < NF_CRASH_SIGNALS; i++) {
        if (crash_signals[i] == signal_number) sigaction(signal_number, &previous[i], NULL);
    }
    if (info->si_code <= 0 || signal_number == SIGTRAP) {
        raise(signal_number);
        // Still here: the previous handler returned (Swift's backtracer does, expecting
        // the fault to recur). A crash signal ends the process, as it would unhandled.
        signal(signal_number, SIG_DFL);
        raise(signal_number);
    }
}

void nf_cleanup_install_crash_handlers(void) {
    for (size_t i = 0; i < NF_CRASH_SIGNALS; i++) {
        struct sigaction action = {.sa_sigaction = on_crash, .sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK};
        sigemptyset(&action.sa_mask);
        sigaction(crash_signals[i], &action, &previous[i]);
    }
}
