// How the capture's programs (bpf/capture.bpf.c, bpf/departures.bpf.c) wake their rings'
// reader. Waking it for every record costs more than the record: the reader polls on a
// short timeout anyway, so a record wakes it only once its ring is a quarter full.
#ifndef NETFAULT_RING_WAKEUP_H
#define NETFAULT_RING_WAKEUP_H

// bpf_ringbuf_submit/output/discard's flags and bpf_ringbuf_query's (uapi linux/bpf.h).
#define BPF_RB_NO_WAKEUP 1
#define BPF_RB_FORCE_WAKEUP 2
#define BPF_RB_AVAIL_DATA 0

// The flags for a record going into `ring`, a ring map of `bytes` bytes.
static __always_inline __u64 ring_wakeup_flags(void *ring, __u64 bytes) {
    return bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) > bytes / 4 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

#endif
