// netfault's timeline capture in the kernel: a tc (clsact) egress program that copies
// each TCP packet's headers, length, interface, GSO size and departure instant into a
// ring, instead of an AF_PACKET socket cloning every frame (what libpcap and tcpdump do,
// and what costs a bulk transfer ~40 %). One object per host (its namespace's interfaces,
// its ring); each segment's own instant comes from bpf/departures.bpf.c, one object for
// the whole scenario.
//
// Where it hooks: clsact egress of every scenario interface at pref 512, behind the fault
// engine's filters (pref 256), which return TC_ACT_UNSPEC for what they let through: this
// program sees exactly what leaves (a segment the engine drops with TC_ACT_STOLEN never
// reaches it; one it corrupts is seen corrupted; a duplicate is seen twice). The peer's
// arrival is made from the same record in userspace (a veth hands the frame to its peer
// within the sending call, and AF_PACKET stamps a received frame at netif_rx: the same
// instant). Not at ingress: a receiver's backlog queues frames, so an ingress instant is
// tens of µs after the departure tcpdump stamps, and an ingress program runs once per
// frame where egress runs once per GSO packet (the ingress variant cost 34.7 %). A tc
// program runs only for its own device, so one object per host costs nothing extra.
//
// GSO: tc egress runs before the qdisc, and a GSO packet (up to 64 KiB of TCP payload) is
// cut into wire segments only after it (validate_xmit_skb, software GSO when the veth's
// offloads are off). One record per skb, with skb->gso_size (5.7+) and skb->gso_segs
// (5.1+); userspace cuts the record into segments as tcp_gso_segment does. That is what
// makes this capture cheap: one 152-byte ring record per ~45 segments of a bulk transfer
// (and a 24-byte departure per segment, from bpf/departures.bpf.c, in batches). Userspace
// gives each segment cut from a packet the instant of its departure record.
//
// Built by Plugins/BPFObjectPlugin (clang -target bpf -mcpu=v2, so that 5.10 verifies it).
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include "capture.h"
#include "tc_context.h"
#include "ring_wakeup.h"

char LICENSE[] SEC("license") = "GPL";


#define RING_BYTES (1 << 23)

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, RING_BYTES);  // 8 MiB: ~54 000 records (of skbs, many segments each)
} records SEC(".maps");

// Records lost because the ring was full (slot 0; the departures count theirs in
// bpf/departures.bpf.c).
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} lost SEC(".maps");

SEC("tc")
int capture_egress(struct __sk_buff *skb) {
    __u64 now = bpf_ktime_get_ns();
    if (skb->protocol != ETH_P_IP_BE && skb->protocol != ETH_P_IPV6_BE) return TC_ACT_UNSPEC;
    if (skb->len <= ETH_HLEN) return TC_ACT_UNSPEC;
    __u32 length = skb->len - ETH_HLEN;
    __u8 first[10];
    // TCP only, as the libpcap capture's "tcp" filter: IPv4's protocol, IPv6's next header.
    if (skb->protocol == ETH_P_IP_BE) {
        if (length < 20 || bpf_skb_load_bytes(skb, ETH_HLEN, first, 10) || first[9] != IPPROTO_TCP) return TC_ACT_UNSPEC;
    } else {
        if (length < 40 || bpf_skb_load_bytes(skb, ETH_HLEN, first, 7) || first[6] != IPPROTO_TCP) return TC_ACT_UNSPEC;
    }
    struct nf_capture_record *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
    if (!r) {
        __u32 zero = 0;
        __u64 *count = bpf_map_lookup_elem(&lost, &zero);
        if (count) __sync_fetch_and_add(count, 1);
        return TC_ACT_UNSPEC;
    }
    // The departure: the packet leaves the qdisc, and is cut and handed to the taps and the
    // driver, at max(now, skb->tstamp). The fault engine's delay sets skb->tstamp (earliest
    // departure time) only where an fq root qdisc holds the packet until then; TCP's own
    // tstamp without fq is never ahead of now (its internal pacing holds the packet in
    // TCP, not in the qdisc), and with fq it is when fq releases it too. Without that
    // stamp the packet goes on at once: now. (fq may release it a little after tstamp when
    // other flows are due at the same instant.)
    // A stamp more than an hour ahead is not a departure time but a receive stamp on the
    // realtime clock (a forwarded packet's on kernels that keep it): now then.
    __u64 tstamp = skb->tstamp;
    r->time_ns = tstamp > now && tstamp - now < 3600ULL * 1000000000ULL ? tstamp : now;
    r->ifindex = skb->ifindex;
    r->length = length;
    r->protocol = skb->protocol == ETH_P_IP_BE ? 0x0800 : 0x86DD;
    r->direction = NF_CAPTURE_EGRESS;
    __u32 gso_size = skb->gso_size, gso_segs = skb->gso_segs;
    r->gso_size = gso_size > 0xFFFF ? 0xFFFF : gso_size;
    r->gso_segs = gso_segs > 0xFFFF ? 0xFFFF : gso_segs;
    __u32 captured = length < NF_CAPTURE_BYTES ? length : NF_CAPTURE_BYTES;
    // 20…128 here; written so that the verifier sees 1…128 (clang drops a range check it
    // can prove, and the verifier then sees 0…127 and refuses a zero-sized read).
    captured = ((captured - 1) & (NF_CAPTURE_BYTES - 1)) + 1;
    if (bpf_skb_load_bytes(skb, ETH_HLEN, r->bytes, captured)) {
        bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
        return TC_ACT_UNSPEC;
    }
    r->captured = captured;
    bpf_ringbuf_submit(r, ring_wakeup_flags(&records, RING_BYTES));
    return TC_ACT_UNSPEC;
}
