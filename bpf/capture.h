// The timeline's capture records, as bpf/capture.bpf.c (one object per host) and
// bpf/departures.bpf.c (one object per scenario) write them to their rings and
// Sources/NetfaultKernel/Capture/BPFCapture.swift and DepartureRecorder.swift read them
// (every field in the host's byte order except `bytes`, which are the packet's own), and
// the departures' filter userspace writes. Sources/CNetfaultBPF/libbpf_shim.c includes it
// too, for its _Static_asserts.
#ifndef NETFAULT_CAPTURE_H
#define NETFAULT_CAPTURE_H

// Bytes kept from the network header on: an IPv4 header with every option (60) and a TCP
// header with every option (60) fit; payload is not wanted.
#define NF_CAPTURE_BYTES 128

enum nf_capture_direction { NF_CAPTURE_INGRESS = 0, NF_CAPTURE_EGRESS = 1 };

// One record per skb: a GSO skb (many wire segments, cut after the qdisc) is one record,
// expanded into its segments in userspace (Sources/Netfault/Capture/GSOSegments.swift).
struct nf_capture_record {
    __u64 time_ns;      //  0 departure: max(bpf_ktime_get_ns(), skb->tstamp), CLOCK_MONOTONIC
    __u32 ifindex;      //  8 skb->ifindex: the interface the program runs on
    __u32 length;       // 12 the skb from its network header on (skb->len − Ethernet)
    __u16 protocol;     // 16 ETH_P_IP or ETH_P_IPV6
    __u8 direction;     // 18 nf_capture_direction
    __u8 captured;      // 19 bytes of `bytes` filled
    __u16 gso_size;     // 20 skb->gso_size: payload bytes per segment (0: not GSO)
    __u16 gso_segs;     // 22 skb->gso_segs: segments the skb becomes (0 or 1: one)
    __u8 bytes[NF_CAPTURE_BYTES];  // 24
};

// One TCP segment handed to a device (bpf/departures.bpf.c's tp_btf/net_dev_start_xmit), after
// software GSO cut it out of its packet: the instant its packet's record (above) cannot
// give each segment. Userspace gives each segment cut from a record the instant of the
// departure with the same interface, sequence number and length.
struct nf_capture_departure {
    __u64 time_ns;   //  0 bpf_ktime_get_ns() when the device takes it (CLOCK_MONOTONIC)
    __u32 ifindex;   //  8 the device's index in its host's namespace
    __u32 seq;       // 12 the TCP header's sequence number, host byte order
    __u32 length;    // 16 the segment from its network header on
    __u32 slot;      // 20 the host's slot (nf_departure_namespace): whose capture it is for
};

// Departures go to the ring in batches of NF_DEPARTURE_BATCH, gathered per CPU in a
// per-CPU array (a ring record per segment cost a bulk transfer a quarter of its
// throughput): the ring's reserve and commit and the reader's wake-up once per batch.
// What a CPU has gathered when the capture stops is read from the per-CPU array.
#define NF_DEPARTURE_BATCH 32
struct nf_capture_departure_batch {
    __u32 count;     // 0 departures filled in `departures`
    __u32 reserved;  // 4
    struct nf_capture_departure departures[NF_DEPARTURE_BATCH];  // 8
};

// The departures' filter: the scenario's hosts by namespace (its inode, struct net's
// ns.inum), each with its slot and its captured interfaces of index < 64 (those created in
// a namespace of their own have small indexes). Direct-mapped: a host is found at index
// inode % NF_DEPARTURE_INDEX of an array (an array lookup the verifier inlines; a hash
// lookup cost each transmit of the machine ~60 ns more), and where two hosts' inodes share an
// index, the second in a hash by inode, which `overflow` says to look in.
#define NF_DEPARTURE_INDEX 256
#define NF_DEPARTURE_HOSTS 256
struct nf_departure_namespace {
    __u32 netns;     // 0 the namespace's inode (0: no host at this index)
    __u16 slot;      // 4 written into each of the host's departures
    __u8 overflow;   // 6 1: hosts whose inodes share this index are in the hash
    __u8 reserved;   // 7
    __u64 devices;   // 8 bit i: interface index i is one of the host's captured interfaces
};

// A captured interface of index ≥ 64: the key of the departures' second filter.
struct nf_departure_device {
    __u32 netns;    // 0 the namespace's inode
    __u32 ifindex;  // 4
};

#endif
