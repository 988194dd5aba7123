// Each TCP segment's own departure, for the timeline's capture (bpf/capture.bpf.c), one
// object for the whole scenario.
//
// Why: software GSO cuts a packet into segments that go to the taps (tcpdump's stamp) and
// the driver one after another, tens of µs apart for the last ones of a 64 KiB packet, so
// the packet's one instant (capture_egress's record) is early for all but the first. This
// program, at tp_btf/net_dev_start_xmit (xmit_one: right after dev_queue_xmit_nit hands the
// segment to the taps, right before the driver), gathers one small record per TCP segment
// of the scenario's captured interfaces (interface, sequence number, length, instant, and
// the host's slot) and writes them to one ring 32 at a time. Userspace
// (Sources/NetfaultKernel/Capture/DepartureRecorder.swift) hands each host's capture the
// departures of its slot, and gives each segment cut from a packet the instant of its
// departure record.
//
// One program for the scenario, not one per host: the tracepoint fires for every device
// transmit of the machine, and every attached program runs each time. With one per host a
// segment of a two-host scenario ran two programs (one kept it, one turned it away), and
// every other transmit on the machine ran one per host. Here each transmit runs this
// program once: one array lookup by the device's namespace inode (another namespace's
// device is turned away there), then the host's interface bits (or a hash lookup for
// indexes ≥ 64).
//
// What a run costs (`netfault bench timeline`'s capturePrograms; docs/benchmarks.md): ~110 ns
// on this machine, of which reading the clock is ~40, the header read ~33 and the batch ~28.
// The clock and the header are what make each segment's instant exact and tie it to its
// segment: a cheaper program would have to stamp packets, not segments.
//
// Built by Plugins/BPFObjectPlugin (clang -target bpf -mcpu=v2, so that 5.10 verifies it).
// A kernel without BTF refuses tp_btf: then the object does not load, and every segment
// keeps its packet's instant (BPFCapture.Recorded.departuresUnavailable says why).
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "capture.h"
#include "tc_context.h"  // its packet constants (ETH_P_IP_BE, ETH_P_IPV6_BE, IPPROTO_TCP)
#include "ring_wakeup.h"

char LICENSE[] SEC("license") = "GPL";


#define DEPARTURE_RING_BYTES (1 << 23)

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, DEPARTURE_RING_BYTES);  // 8 MiB: ~10 000 batches of 32 departures
} departures SEC(".maps");

// Departures lost because the ring was full (slot 0), whichever hosts they were for: a
// batch mixes them.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} lost SEC(".maps");

// Each CPU's batch being gathered (bpf/capture.h).
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct nf_capture_departure_batch);
} departure_batch SEC(".maps");

// The scenario's hosts at index inode % NF_DEPARTURE_INDEX (bpf/capture.h), set by userspace.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, NF_DEPARTURE_INDEX);
    __type(key, __u32);
    __type(value, struct nf_departure_namespace);
} departure_namespaces SEC(".maps");

// Hosts whose inodes share an index with another's, by inode.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, NF_DEPARTURE_HOSTS);
    __type(key, __u32);
    __type(value, struct nf_departure_namespace);
} departure_overflow SEC(".maps");

// The hosts' captured interfaces of index ≥ 64.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, struct nf_departure_device);
    __type(value, __u8);
} departure_devices SEC(".maps");

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(capture_departure, const struct sk_buff *skb, const struct net_device *dev) {
    // Every device of the machine comes here: another namespace's is turned away first
    // (two loads through BTF pointers, an array lookup and a compare; a hash lookup only
    // where hosts share the index), then another interface of the host's (a bit, or a
    // hash lookup for indexes ≥ 64).
    struct nf_departure_device device = { .netns = dev->nd_net.net->ns.inum, .ifindex = dev->ifindex };
    __u32 index = device.netns & (NF_DEPARTURE_INDEX - 1);
    struct nf_departure_namespace *host = bpf_map_lookup_elem(&departure_namespaces, &index);
    if (!host) return 0;
    if (host->netns != device.netns) {
        if (!host->overflow) return 0;
        host = bpf_map_lookup_elem(&departure_overflow, &device.netns);
        if (!host) return 0;
    }
    __u32 ifindex = device.ifindex, slot = host->slot;
    if (ifindex < 64 ? !(host->devices & (1ULL << ifindex)) : !bpf_map_lookup_elem(&departure_devices, &device)) return 0;
    // TCP only, as capture_egress. After GSO each segment has its own headers, and the
    // offsets of the network and transport headers are set (skb_segment copies them).
    __be16 protocol = skb->protocol;
    if (protocol != ETH_P_IP_BE && protocol != ETH_P_IPV6_BE) return 0;
    unsigned char *head = skb->head;
    __u16 mac = skb->mac_header, network = skb->network_header, transport = skb->transport_header;
    // The device gets the frame from its link-layer header on: skb->len counts it.
    __u32 len = skb->len, link = (__u32)network - mac;
    if (mac == 0xffff || network < mac || link >= len) return 0;
    // One read for the IP header and the TCP sequence number where the TCP header follows
    // a 20-byte IPv4 or a 40-byte IPv6 header (all but IPv4 options and IPv6 extension
    // headers, which take a second read): each read is a helper call.
    __u8 h[48];
    if (bpf_probe_read_kernel(h, sizeof(h), head + network)) return 0;
    if (h[protocol == ETH_P_IP_BE ? 9 : 6] != IPPROTO_TCP) return 0;
    __u32 at = (__u32)transport - network, seq;
    if (at == 20) {
        seq = (__u32)h[24] << 24 | (__u32)h[25] << 16 | (__u32)h[26] << 8 | h[27];
    } else if (at == 40) {
        seq = (__u32)h[44] << 24 | (__u32)h[45] << 16 | (__u32)h[46] << 8 | h[47];
    } else {
        if (bpf_probe_read_kernel(&seq, 4, head + transport + 4)) return 0;
        seq = __builtin_bswap32(seq);
    }
    // Gathered in this CPU's batch (no other program run on this CPU can interleave: the
    // transmit path runs with bottom halves off, and a tracing program does not nest in itself).
    __u32 zero = 0;
    struct nf_capture_departure_batch *batch = bpf_map_lookup_elem(&departure_batch, &zero);
    if (!batch) return 0;
    __u32 count = batch->count;
    if (count >= NF_DEPARTURE_BATCH) count = 0;
    struct nf_capture_departure *r = &batch->departures[count & (NF_DEPARTURE_BATCH - 1)];
    r->time_ns = bpf_ktime_get_ns();
    r->ifindex = ifindex;
    r->seq = seq;
    r->length = len - link;
    r->slot = slot;
    count++;
    if (count == NF_DEPARTURE_BATCH) {
        batch->count = count;
        if (bpf_ringbuf_output(&departures, batch, sizeof(*batch), ring_wakeup_flags(&departures, DEPARTURE_RING_BYTES))) {
            __u64 *lost_count = bpf_map_lookup_elem(&lost, &zero);
            if (lost_count) __sync_fetch_and_add(lost_count, NF_DEPARTURE_BATCH);
        }
        count = 0;
    }
    batch->count = count;
    return 0;
}
