// Kernel TCP events for netfault, from BTF-typed tracepoints (tp_btf: no tracefs needed).
// Each program keeps only events of the namespaces in `netns_filter` (the scenario's
// hosts, by namespace inode) and writes one `struct nf_tcp_event` to the ring buffer.
// Built by Plugins/BPFObjectPlugin with clang -target bpf; CO-RE against the running
// kernel's BTF, so one object loads on every kernel with BTF and these tracepoints.
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "tcp_events.h"

char LICENSE[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u32);
    __type(value, __u8);
} netns_filter SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 22);  // 4 MiB: ~60 000 events between two polls
} events SEC(".maps");

// Counts events lost because the ring buffer was full (one slot, read by user space).
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} lost SEC(".maps");

// When the device took each TCP segment of a watched namespace's sockets, keyed by the
// sending socket (a request socket for SYN-ACKs) and sequence number: the retransmission
// tracepoints fire after the transmit and look their segment up here. LRU: a bulk transfer
// overwrites old entries, while a retransmission reads its own a few microseconds after.
struct departure_key {
    __u64 sock;
    __u32 seq;
    __u32 pad;
};
struct departure {
    __u64 departed_ns;  // bpf_ktime_get_ns in net_dev_queue or qdisc_dequeue
    __u64 stamped_ns;   // the skb's skb_mstamp_ns: TCP's stamp of this very transmission
};
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 8192);
    __type(key, struct departure_key);
    __type(value, struct departure);
} departures SEC(".maps");

// Retransmissions that had not left the device when their tracepoint fired (held in a
// fault's queue): the departure, when it comes, is announced as an event of its own.
struct pending {
    __u64 stamped_ns;  // TCP's stamp of the transmission (0 for a SYN-ACK)
    __u64 first_us;    // a SYN-ACK's first transmission, which this is not
};
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 1024);
    __type(key, struct departure_key);
    __type(value, struct pending);
} pending SEC(".maps");

static __always_inline int watched(__u32 netns) {
    return bpf_map_lookup_elem(&netns_filter, &netns) != 0;
}

static __always_inline __u32 sock_netns(const struct sock_common *skc) {
    return BPF_CORE_READ(skc, skc_net.net, ns.inum);
}

static __always_inline struct nf_tcp_event *reserve(void) {
    struct nf_tcp_event *event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
    if (!event) {
        __u32 zero = 0;
        __u64 one = 1, *count = bpf_map_lookup_elem(&lost, &zero);
        if (count) __sync_fetch_and_add(count, 1);
        else bpf_map_update_elem(&lost, &zero, &one, BPF_ANY);
        return 0;
    }
    __builtin_memset(event, 0, sizeof(*event));
    event->time_ns = bpf_ktime_get_ns();
    event->reason = NF_NO_REASON;
    return event;
}

/// The socket's 4-tuple, local first.
static __always_inline void fill_tuple(struct nf_tcp_event *event, const struct sock_common *skc) {
    event->family = BPF_CORE_READ(skc, skc_family);
    event->sport = BPF_CORE_READ(skc, skc_num);
    event->dport = __builtin_bswap16(BPF_CORE_READ(skc, skc_dport));
    if (event->family == 10) {
        BPF_CORE_READ_INTO(&event->saddr, skc, skc_v6_rcv_saddr);
        BPF_CORE_READ_INTO(&event->daddr, skc, skc_v6_daddr);
    } else {
        __u32 saddr = BPF_CORE_READ(skc, skc_rcv_saddr), daddr = BPF_CORE_READ(skc, skc_daddr);
        __builtin_memcpy(event->saddr, &saddr, 4);
        __builtin_memcpy(event->daddr, &daddr, 4);
    }
}

/// The IP and TCP headers of a segment in `skb` (source first). 0 when it is not TCP.
static __always_inline int fill_from_headers(struct nf_tcp_event *event, const struct sk_buff *skb) {
    unsigned char *head = BPF_CORE_READ(skb, head);
    __u16 network = BPF_CORE_READ(skb, network_header);
    if (network == 0xffff) return 0;
    unsigned char *ip = head + network;
    __u8 first;
    if (bpf_probe_read_kernel(&first, 1, ip)) return 0;
    unsigned char *tcp;
    __u32 payload;
    if ((first >> 4) == 4) {
        __u8 header[20];
        if (bpf_probe_read_kernel(header, sizeof(header), ip) || header[9] != 6) return 0;
        event->family = 2;
        __builtin_memcpy(event->saddr, &header[12], 4);
        __builtin_memcpy(event->daddr, &header[16], 4);
        __u32 ip_header = (first & 0x0f) * 4;
        tcp = ip + ip_header;
        payload = ((__u32)header[2] << 8 | header[3]) - ip_header;
    } else if ((first >> 4) == 6) {
        __u8 header[40];
        if (bpf_probe_read_kernel(header, sizeof(header), ip) || header[6] != 6) return 0;
        event->family = 10;
        __builtin_memcpy(event->saddr, &header[8], 16);
        __builtin_memcpy(event->daddr, &header[24], 16);
        tcp = ip + 40;
        payload = (__u32)header[4] << 8 | header[5];
    } else {
        return 0;
    }
    __u8 th[14];
    if (bpf_probe_read_kernel(th, sizeof(th), tcp)) return 0;
    event->sport = (__u16)th[0] << 8 | th[1];
    event->dport = (__u16)th[2] << 8 | th[3];
    event->seq = (__u32)th[4] << 24 | (__u32)th[5] << 16 | (__u32)th[6] << 8 | th[7];
    event->ack = (__u32)th[8] << 24 | (__u32)th[9] << 16 | (__u32)th[10] << 8 | th[11];
    __u32 tcp_header = (th[12] >> 4) * 4;
    event->tcp_flags = th[13];
    event->length = payload > tcp_header ? payload - tcp_header : 0;
    return 1;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state, const struct sock *sk, int oldstate, int newstate) {
    if (!watched(sock_netns(&sk->__sk_common))) return 0;
    struct nf_tcp_event *event = reserve();
    if (!event) return 0;
    event->kind = NF_EVENT_STATE;
    event->netns = sock_netns(&sk->__sk_common);
    event->old_state = oldstate;
    event->new_state = newstate;
    // A connecting socket enters SYN_SENT before it has a local port: the address ties
    // this event to the socket's later ones.
    event->sock = (__u64)sk;
    fill_tuple(event, &sk->__sk_common);
    if (!event->sport) event->sport = __builtin_bswap16(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
    bpf_ringbuf_submit(event, 0);
    return 0;
}

/// Whether a transmission stamped `stamp` is the one awaited: its stamp when known (queued
/// segments), else not a SYN-ACK's first (`first_us`, its stamp in µs).
static __always_inline int is_this_transmission(__u64 stamp, __u64 stamped_ns, __u64 first_us) {
    if (stamped_ns) return stamp == stamped_ns;
    return !first_us || stamp / 1000 != first_us;
}

/// Records when `skb` left, for a TCP segment of a watched namespace's socket; announces
/// it if a retransmission awaits it. Runs for every skb a watched namespace sends, so the
/// common case (a segment that cannot be a retransmission) leaves after direct loads
/// through the tracepoint's BTF-typed pointers and two reads.
static __always_inline void record_departure(const struct sk_buff *skb, __u32 netns) {
    // Forwarded segments (a router's) have no socket.
    struct sock *sk = skb->sk;
    if (!sk) return;
    // A full socket sends new data, pure ACKs and a first SYN or FIN at snd_nxt (advanced
    // after the transmit): only what lies before it can be a retransmission. Checked first,
    // on the TCP header's sequence number alone, this keeps a bulk transfer's segments out of
    // the maps and the header parsing. A request socket's segments are SYN-ACKs.
    __u32 seq;
    if (bpf_probe_read_kernel(&seq, 4, skb->head + skb->transport_header + 4)) return;
    if (sk->__sk_common.skc_state != TCP_NEW_SYN_RECV
        && (__s32)(__builtin_bswap32(seq) - BPF_CORE_READ((const struct tcp_sock *)sk, snd_nxt)) >= 0) return;
    struct nf_tcp_event segment;
    if (!fill_from_headers(&segment, skb)) return;
    struct departure_key key = { .sock = (__u64)sk, .seq = segment.seq };
    struct departure value = { .departed_ns = bpf_ktime_get_ns(), .stamped_ns = skb->skb_mstamp_ns };
    struct pending *awaited = bpf_map_lookup_elem(&pending, &key);
    if (!awaited) {
        bpf_map_update_elem(&departures, &key, &value, BPF_ANY);
        return;
    }
    if (!is_this_transmission(value.stamped_ns, awaited->stamped_ns, awaited->first_us)) return;
    bpf_map_delete_elem(&pending, &key);
    struct nf_tcp_event *event = reserve();
    if (!event) return;
    if (!fill_from_headers(event, skb)) { bpf_ringbuf_discard(event, 0); return; }
    event->kind = NF_EVENT_DEPARTURE;
    event->netns = netns;
    event->sock = (__u64)sk;
    event->stamped_ns = value.stamped_ns;
    event->departed_ns = value.departed_ns;
    bpf_ringbuf_submit(event, 0);
}

static __always_inline __u32 watched_device(const struct net_device *dev) {
    __u32 netns = dev->nd_net.net->ns.inum;
    return watched(netns) ? netns : 0;
}

// The segment handed to the device (__dev_queue_xmit), once per skb before any software
// segmentation. Without a queue (noqueue, veth's default) it goes on at once to the
// capture's tap (dev_queue_xmit_nit) and the driver: measured here, this fires 3.5–8 µs
// before the tap's stamp. Not net_dev_start_xmit, which fires per segment after the tap
// (7–11 µs) and, for every segment of every device, cost a bulk transfer 15 % of its
// throughput even when it only looked at the device.
SEC("tp_btf/net_dev_queue")
int BPF_PROG(on_queue, const struct sk_buff *skb) {
    const struct net_device *dev = skb->dev;
    if (dev->qdisc->enqueue) return 0;  // a queue: the segment leaves when qdisc_dequeue says
    __u32 netns = watched_device(dev);
    if (netns) record_departure(skb, netns);
    return 0;
}

// A device with a queue (netem in a VM, say) sends a segment when its qdisc releases it:
// dequeue_skb, just before the driver and the capture's tap. Devices without a queue never
// get here, so a veth's traffic does not pay for this program. A bulk dequeue chains
// several segments through skb->next; the first few are looked at.
SEC("tp_btf/qdisc_dequeue")
int BPF_PROG(on_dequeue, const struct Qdisc *qdisc, const void *txq, int packets, const struct sk_buff *skb) {
    if (!skb) return 0;
    __u32 netns = watched_device(skb->dev);
    if (!netns) return 0;
    for (int i = 0; i < 8 && skb; i++) {
        record_departure(skb, netns);
        skb = skb->next;
    }
    return 0;
}

/// The departure of this transmission of (sock, seq), taken once; 0 if it has not left
/// yet (still held in a queue, say by a fault), which is then awaited.
static __always_inline __u64 take_departure(__u64 sock, __u32 seq, __u64 stamped_ns, __u64 first_us) {
    struct departure_key key = { .sock = sock, .seq = seq };
    struct departure *found = bpf_map_lookup_elem(&departures, &key);
    if (found) {
        __u64 departed = found->departed_ns, stamp = found->stamped_ns;
        bpf_map_delete_elem(&departures, &key);
        // An earlier transmission's entry has another stamp.
        if (is_this_transmission(stamp, stamped_ns, first_us)) return departed;
    }
    struct pending awaited = { .stamped_ns = stamped_ns, .first_us = first_us };
    bpf_map_update_elem(&pending, &key, &awaited, BPF_ANY);
    return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(on_retransmit, const struct sock *sk, const struct sk_buff *skb) {
    __u32 netns = sock_netns(&sk->__sk_common);
    if (!watched(netns)) return 0;
    struct nf_tcp_event *event = reserve();
    if (!event) return 0;
    event->kind = NF_EVENT_RETRANSMIT;
    event->netns = netns;
    fill_tuple(event, &sk->__sk_common);
    const struct tcp_skb_cb *cb = (const void *)skb->cb;
    event->seq = BPF_CORE_READ(cb, seq);
    __u32 end_seq = BPF_CORE_READ(cb, end_seq);
    event->tcp_flags = BPF_CORE_READ(cb, tcp_flags);
    // end_seq counts SYN and FIN as one each; the payload does not.
    __u32 span = end_seq - event->seq - ((event->tcp_flags & 0x02) ? 1 : 0) - ((event->tcp_flags & 0x01) ? 1 : 0);
    event->length = span;
    // The segment left between the instant TCP stamped the transmission (skb_mstamp_ns, the
    // clock it times RTTs with) and this tracepoint, which fires once the device has taken it.
    event->stamped_ns = BPF_CORE_READ(skb, skb_mstamp_ns);
    event->sock = (__u64)sk;
    event->departed_ns = take_departure((__u64)sk, event->seq, event->stamped_ns, 0);
    bpf_ringbuf_submit(event, 0);
    return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(on_retransmit_synack, const struct sock *sk, const struct request_sock *req) {
    __u32 netns = sock_netns(&req->__req_common);
    if (!watched(netns)) return 0;
    struct nf_tcp_event *event = reserve();
    if (!event) return 0;
    event->kind = NF_EVENT_RETRANSMIT_SYNACK;
    event->netns = netns;
    fill_tuple(event, &req->__req_common);
    const struct tcp_request_sock *treq = (const void *)req;
    event->seq = BPF_CORE_READ(treq, snt_isn);
    event->tcp_flags = 0x12;
    // The SYN-ACK's skb is gone; its departure is the request socket's newest, unless that
    // is still the first SYN-ACK's (this one held in a queue).
    event->sock = (__u64)req;
    event->departed_ns = take_departure((__u64)req, event->seq, 0, BPF_CORE_READ(treq, snt_synack));
    bpf_ringbuf_submit(event, 0);
    return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(on_send_reset, const struct sock *sk, const struct sk_buff *skb) {
    struct nf_tcp_event *event;
    if (sk) {
        __u32 netns = sock_netns(&sk->__sk_common);
        if (!watched(netns)) return 0;
        if (!(event = reserve())) return 0;
        event->netns = netns;
        fill_tuple(event, &sk->__sk_common);
    } else {
        // No socket: the reset answers `skb`, the segment that arrived; its tuple, reversed.
        if (!skb) return 0;
        __u32 netns = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
        if (!watched(netns)) return 0;
        if (!(event = reserve())) return 0;
        event->netns = netns;
        if (!fill_from_headers(event, skb)) { bpf_ringbuf_discard(event, 0); return 0; }
        __u8 address[16];
        __builtin_memcpy(address, event->saddr, 16);
        __builtin_memcpy(event->saddr, event->daddr, 16);
        __builtin_memcpy(event->daddr, address, 16);
        __u16 port = event->sport;
        event->sport = event->dport;
        event->dport = port;
        event->seq = 0;
        event->ack = 0;
        event->length = 0;
    }
    event->kind = NF_EVENT_SEND_RESET;
    event->tcp_flags = 0x04;
    // 6.10+ passes why (enum sk_rst_reason) as a third argument; older kernels have two.
    if (bpf_core_type_exists(enum sk_rst_reason)) event->reason = (__u32)ctx[2];
    bpf_ringbuf_submit(event, 0);
    return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(on_receive_reset, const struct sock *sk) {
    __u32 netns = sock_netns(&sk->__sk_common);
    if (!watched(netns)) return 0;
    struct nf_tcp_event *event = reserve();
    if (!event) return 0;
    event->kind = NF_EVENT_RECEIVE_RESET;
    event->netns = netns;
    event->tcp_flags = 0x04;
    fill_tuple(event, &sk->__sk_common);
    bpf_ringbuf_submit(event, 0);
    return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(on_drop, const struct sk_buff *skb) {
    struct net_device *dev = BPF_CORE_READ(skb, dev);
    __u32 netns = dev ? BPF_CORE_READ(dev, nd_net.net, ns.inum) : 0;
    if (!netns) {
        struct sock *sk = BPF_CORE_READ(skb, sk);
        if (!sk) return 0;
        netns = sock_netns(&sk->__sk_common);
    }
    if (!watched(netns)) return 0;
    struct nf_tcp_event *event = reserve();
    if (!event) return 0;
    event->kind = NF_EVENT_DROP;
    event->netns = netns;
    if (bpf_core_type_exists(enum skb_drop_reason)) event->reason = (__u32)ctx[2];
    if (!fill_from_headers(event, skb)) { bpf_ringbuf_discard(event, 0); return 0; }
    bpf_ringbuf_submit(event, 0);
    return 0;
}
