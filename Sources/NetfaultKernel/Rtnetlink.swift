import CNetfault
import Glibc

/// rtnetlink requests for links, addresses and routes. Each builds a message;
/// `NetlinkSocket.perform` sends a namespace's messages in one batch.
public enum Rtnetlink {
    /// Equivalent to `ip link add NAME index INDEX mtu MTU type veth peer name PEER
    /// index PEERINDEX netns PEERNS mtu MTU`, sent on a socket inside the first end's
    /// namespace: both ends are created in place, so nothing is moved between
    /// namespaces (a move costs ~20 ms per end). Choosing the indexes (unique per
    /// namespace) lets addresses go in the same batch, with no lookup in between.
    /// `gsoMaxSegments` (`gso_max_segs N` on both ends; accepted at creation since 4.16):
    /// 1 makes TCP build one-segment skbs, so a tc program sees each segment on its own.
    public static func newVeth(name: String, index: Int32, peer: String, peerIndex: Int32,
                               peerNamespaceFD: Int32, mtu: UInt32?, gsoMaxSegments: UInt32? = nil) -> NetlinkMessage {
        let gso = gsoMaxSegments.map { " gso_max_segs \($0)" } ?? ""
        return NetlinkMessage(type: UInt16(RTM_NEWLINK), flags: .nlCreateExclusive,
                       operation: "ip link add \(name)\(gso) type veth peer name \(peer)\(gso)") { m in
            m.putHeader(link(index: index, up: false))
            m.put(UInt16(IFLA_IFNAME), string: name)
            if let mtu { m.put(UInt16(IFLA_MTU), u32: mtu) }
            if let gsoMaxSegments { m.put(UInt16(IFLA_GSO_MAX_SEGS), u32: gsoMaxSegments) }
            m.nest(UInt16(IFLA_LINKINFO)) {
                m.put(UInt16(IFLA_INFO_KIND), string: "veth")
                m.nest(UInt16(IFLA_INFO_DATA)) {
                    m.nest(UInt16(VETH_INFO_PEER)) {
                        // Not up yet: veth refuses to open a peer before the pair is linked (ENOTCONN).
                        m.putHeader(link(index: peerIndex, up: false))
                        m.put(UInt16(IFLA_IFNAME), string: peer)
                        if let mtu { m.put(UInt16(IFLA_MTU), u32: mtu) }
                        if let gsoMaxSegments { m.put(UInt16(IFLA_GSO_MAX_SEGS), u32: gsoMaxSegments) }
                        m.put(UInt16(IFLA_NET_NS_FD), u32: UInt32(bitPattern: peerNamespaceFD))
                    }
                }
            }
        }
    }

    /// Equivalent to `ip link set dev NAME up` (lo is always index 1 in a new namespace).
    public static func setUp(index: Int32, name: String) -> NetlinkMessage {
        NetlinkMessage(type: UInt16(RTM_NEWLINK), flags: .nlRequestAck, operation: "ip link set \(name) up") { m in
            m.putHeader(link(index: index, up: true))
        }
    }

    /// Equivalent to `ip addr add ADDRESS/PREFIX dev NAME` (IPv6 with `nodad`, so
    /// the address is usable at once instead of after duplicate detection).
    public static func newAddress(_ address: IPAddress, prefixLength: UInt8, linkIndex: Int32, link: String) -> NetlinkMessage {
        NetlinkMessage(type: UInt16(RTM_NEWADDR), flags: .nlCreateExclusive,
                       operation: "ip addr add \(address)/\(prefixLength) dev \(link)") { m in
            var header = ifaddrmsg()
            header.ifa_family = UInt8(address.family)
            header.ifa_prefixlen = prefixLength
            header.ifa_flags = address.isIPv6 ? UInt8(IFA_F_NODAD) : 0
            header.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
            header.ifa_index = UInt32(linkIndex)
            m.putHeader(header)
            m.put(UInt16(IFA_LOCAL), bytes: address.bytes)
            m.put(UInt16(IFA_ADDRESS), bytes: address.bytes)
        }
    }

    /// Equivalent to `ip route add DESTINATION/PREFIX via GATEWAY`.
    public static func newRoute(destination: IPAddress, prefixLength: UInt8, gateway: IPAddress) -> NetlinkMessage {
        NetlinkMessage(type: UInt16(RTM_NEWROUTE), flags: .nlCreateExclusive,
                       operation: "ip route add \(destination)/\(prefixLength) via \(gateway)") { m in
            var header = rtmsg()
            header.rtm_family = UInt8(destination.family)
            header.rtm_dst_len = prefixLength
            header.rtm_table = UInt8(RT_TABLE_MAIN.rawValue)
            header.rtm_protocol = UInt8(RTPROT_STATIC)
            header.rtm_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
            header.rtm_type = UInt8(RTN_UNICAST)
            m.putHeader(header)
            if prefixLength > 0 { m.put(UInt16(RTA_DST.rawValue), bytes: destination.bytes) }
            m.put(UInt16(RTA_GATEWAY.rawValue), bytes: gateway.bytes)
        }
    }

    private static func link(index: Int32, up: Bool) -> ifinfomsg {
        var info = ifinfomsg()
        info.ifi_index = index
        info.ifi_family = UInt8(AF_UNSPEC)
        if up {
            info.ifi_flags = UInt32(IFF_UP)
            info.ifi_change = UInt32(IFF_UP)
        }
        return info
    }
}
