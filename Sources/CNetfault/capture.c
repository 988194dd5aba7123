// libpcap handles bound to a network namespace. An AF_PACKET socket captures in
// the namespace it was created in, and pcap_activate() creates it, so activation
// happens on a throw-away thread inside the namespace (as in netns.c); the
// handle is then used from any thread.
#define _GNU_SOURCE
#include "CNetfault.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    int netns_fd;
    int snaplen, buffer_bytes, timeout_ms;
    char *errbuf;
    pcap_t *handle;
} capture_job;

static void *open_capture(void *p) {
    capture_job *job = p;
    if (setns(job->netns_fd, CLONE_NEWNET) != 0) {
        snprintf(job->errbuf, PCAP_ERRBUF_SIZE, "setns: %s", strerror(errno));
        return NULL;
    }
    pcap_t *handle = pcap_create("any", job->errbuf);
    if (!handle) return NULL;
    pcap_set_snaplen(handle, job->snaplen);
    pcap_set_timeout(handle, job->timeout_ms);
    pcap_set_buffer_size(handle, job->buffer_bytes);
    pcap_set_tstamp_precision(handle, PCAP_TSTAMP_PRECISION_NANO);
    int status = pcap_activate(handle);
    if (status < 0) {
        snprintf(job->errbuf, PCAP_ERRBUF_SIZE, "pcap_activate(any): %s", pcap_geterr(handle));
        pcap_close(handle);
        return NULL;
    }
    if (pcap_set_datalink(handle, DLT_LINUX_SLL2) != 0) {
        snprintf(job->errbuf, PCAP_ERRBUF_SIZE, "pcap_set_datalink(LINUX_SLL2): %s", pcap_geterr(handle));
        pcap_close(handle);
        return NULL;
    }
    job->handle = handle;
    return NULL;
}

pcap_t *nf_pcap_open_any_in_netns(int netns_fd, int snaplen, int buffer_bytes, int timeout_ms, char *errbuf) {
    capture_job job = { netns_fd, snaplen, buffer_bytes, timeout_ms, errbuf, NULL };
    pthread_t thread;
    int err = pthread_create(&thread, NULL, open_capture, &job);
    if (err != 0) {
        snprintf(errbuf, PCAP_ERRBUF_SIZE, "pthread_create: %s", strerror(err));
        return NULL;
    }
    pthread_join(thread, NULL);
    return job.handle;
}
