/// Traffic-control constants from linux/pkt_sched.h, which CNetfault.h does not import.
enum TrafficControl {
    static let root: UInt32 = 0xFFFF_FFFF      // TC_H_ROOT
    static let handle1: UInt32 = 0x1_0000      // TC_H_MAKE(1 << 16, 0): "1:"
}
