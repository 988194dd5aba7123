import Foundation
import Glibc
import Testing
@testable import NetfaultKernel

/// The nf_tables queue rules, pure: encodings compared with what nft and
/// iptables-nft sent for the same rules.
///
/// Byte sources, captured on this machine (Debian 12: nft 1.0.6, iptables-nft
/// 1.8.9, strace 6.1), each inside a throw-away `unshare -n`:
/// - nft: `strace -f -e trace=sendmsg -e write=3 nft --debug=netlink -f rules.nft`
///   with `rules.nft` as in `wholeBatchMatchesNft`; the hex dump of its one batch,
///   split into messages, is pasted below (each message after its 16-byte nlmsghdr).
///   On this kernel nft's batch fails (no `queue` expression), but it was sent.
/// - iptables-nft: `strace -f -e trace=sendmsg -xx -s 4096 iptables-nft -A OUTPUT -p tcp
///   --tcp-flags SYN,ACK SYN -j NFQUEUE --queue-num 0` and `iptables-nft -t mangle
///   -A POSTROUTING -j NFQUEUE --queue-num 5` (the compat target and NFTA_RULE_COMPAT).
@Suite struct NftablesQueueRulesEncodingTests {
    static let skipMark: UInt32 = 0x4e46_0001

    /// The rules of `rules.nft`:
    /// ```
    /// add table ip netfault
    /// delete table ip netfault
    /// add table ip6 netfault
    /// delete table ip6 netfault
    /// table ip netfault {
    ///   chain egress {
    ///     type filter hook postrouting priority 0; policy accept;
    ///     meta mark 0x4e460001 accept
    ///     oifname "eth0" ip saddr 10.77.1.0/24 ip daddr 10.77.2.3 meta l4proto tcp tcp sport 9 tcp dport 8080 tcp flags & (syn | ack) == syn queue num 7
    ///   }
    ///   chain ingress {
    ///     type filter hook prerouting priority 0; policy accept;
    ///     meta mark 0x4e460001 accept
    ///     iifname "eth1" meta l4proto tcp tcp dport 80 tcp flags == 0x11 queue num 7
    ///   }
    /// }
    /// table ip6 netfault {
    ///   chain egress {
    ///     type filter hook postrouting priority 0; policy accept;
    ///     meta mark 0x4e460001 accept
    ///     ip6 saddr fd77:1::/61 queue num 7
    ///   }
    ///   chain ingress {
    ///     type filter hook prerouting priority 0; policy accept;
    ///     meta mark 0x4e460001 accept
    ///     iifname "eth1" meta l4proto tcp tcp dport 80 tcp flags == 0x11 queue num 7
    ///   }
    /// }
    /// ```
    static let rules = [
        QueueRule(hook: .postrouting, outputInterface: "eth0", tcpFlags: [.synWithoutAck], sourcePort: 9, destinationPort: 8080,
                  source: AddressPrefix("10.77.1.0/24"), destination: AddressPrefix("10.77.2.3")),
        QueueRule(hook: .prerouting, inputInterface: "eth1", tcpFlags: [TCPFlagMatch(mask: 0xFF, value: 0x11)], destinationPort: 80),
        QueueRule(hook: .postrouting, tcpOnly: false, source: AddressPrefix("fd77:1::/61")),
    ]

    /// nft's batch for rules.nft: each message's payload (nfgenmsg and attributes).
    static let nftPayloads = [
        // type 0x0010, nft flags 0x1
        """
        00 00 00 0a
        """,
        // type 0x0a00, nft flags 0x1
        """
        02 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 08 00 02 00 00 00 00 00
        """,
        // type 0x0a02, nft flags 0x1
        """
        02 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00
        """,
        // type 0x0a00, nft flags 0x1
        """
        0a 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 08 00 02 00 00 00 00 00
        """,
        // type 0x0a02, nft flags 0x1
        """
        0a 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00
        """,
        // type 0x0a00, nft flags 0x1
        """
        02 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 08 00 02 00 00 00 00 00
        """,
        // type 0x0a03, nft flags 0x401
        """
        02 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0b 00 03 00 65 67 72 65 73 73 00 00
        0b 00 07 00 66 69 6c 74 65 72 00 00 08 00 05 00 00 00 00 01 14 00 04 80 08 00 01 00 00 00 00 04
        08 00 02 00 00 00 00 00
        """,
        // type 0x0a03, nft flags 0x401
        """
        02 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0c 00 03 00 69 6e 67 72 65 73 73 00
        0b 00 07 00 66 69 6c 74 65 72 00 00 08 00 05 00 00 00 00 01 14 00 04 80 08 00 01 00 00 00 00 00
        08 00 02 00 00 00 00 00
        """,
        // type 0x0a06, nft flags 0xc01
        """
        02 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0b 00 02 00 65 67 72 65 73 73 00 00
        84 00 04 80 24 00 01 80 09 00 01 00 6d 65 74 61 00 00 00 00 14 00 02 80 08 00 02 00 00 00 00 03
        08 00 01 00 00 00 00 01 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01
        08 00 02 00 00 00 00 00 0c 00 03 80 08 00 01 00 01 00 46 4e 30 00 01 80 0e 00 01 00 69 6d 6d 65
        64 69 61 74 65 00 00 00 1c 00 02 80 08 00 01 00 00 00 00 00 10 00 02 80 0c 00 02 80 08 00 01 00
        00 00 00 01
        """,
        // type 0x0a06, nft flags 0xc01
        """
        02 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0b 00 02 00 65 67 72 65 73 73 00 00
        a0 02 04 80 24 00 01 80 09 00 01 00 6d 65 74 61 00 00 00 00 14 00 02 80 08 00 02 00 00 00 00 07
        08 00 01 00 00 00 00 01 38 00 01 80 08 00 01 00 63 6d 70 00 2c 00 02 80 08 00 01 00 00 00 00 01
        08 00 02 00 00 00 00 00 18 00 03 80 14 00 01 00 65 74 68 30 00 00 00 00 00 00 00 00 00 00 00 00
        34 00 01 80 0c 00 01 00 70 61 79 6c 6f 61 64 00 24 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00
        00 00 00 01 08 00 03 00 00 00 00 0c 08 00 04 00 00 00 00 03 2c 00 01 80 08 00 01 00 63 6d 70 00
        20 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00 00 00 00 00 0c 00 03 80 07 00 01 00 0a 4d 01 00
        34 00 01 80 0c 00 01 00 70 61 79 6c 6f 61 64 00 24 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00
        00 00 00 01 08 00 03 00 00 00 00 10 08 00 04 00 00 00 00 04 2c 00 01 80 08 00 01 00 63 6d 70 00
        20 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00 00 00 00 00 0c 00 03 80 08 00 01 00 0a 4d 02 03
        24 00 01 80 09 00 01 00 6d 65 74 61 00 00 00 00 14 00 02 80 08 00 02 00 00 00 00 10 08 00 01 00
        00 00 00 01 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00
        00 00 00 00 0c 00 03 80 05 00 01 00 06 00 00 00 34 00 01 80 0c 00 01 00 70 61 79 6c 6f 61 64 00
        24 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00 00 00 00 02 08 00 03 00 00 00 00 00 08 00 04 00
        00 00 00 04 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00
        00 00 00 00 0c 00 03 80 08 00 01 00 00 09 1f 90 34 00 01 80 0c 00 01 00 70 61 79 6c 6f 61 64 00
        24 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00 00 00 00 02 08 00 03 00 00 00 00 0d 08 00 04 00
        00 00 00 01 4c 00 01 80 0c 00 01 00 62 69 74 77 69 73 65 00 3c 00 02 80 08 00 01 00 00 00 00 01
        08 00 02 00 00 00 00 01 08 00 06 00 00 00 00 00 08 00 03 00 00 00 00 01 0c 00 04 80 05 00 01 00
        12 00 00 00 0c 00 05 80 05 00 01 00 00 00 00 00 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80
        08 00 01 00 00 00 00 01 08 00 02 00 00 00 00 00 0c 00 03 80 05 00 01 00 02 00 00 00 24 00 01 80
        0a 00 01 00 71 75 65 75 65 00 00 00 14 00 02 80 06 00 01 00 00 07 00 00 06 00 02 00 00 01 00 00
        """,
        // type 0x0a06, nft flags 0xc01
        """
        02 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0c 00 02 00 69 6e 67 72 65 73 73 00
        84 00 04 80 24 00 01 80 09 00 01 00 6d 65 74 61 00 00 00 00 14 00 02 80 08 00 02 00 00 00 00 03
        08 00 01 00 00 00 00 01 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01
        08 00 02 00 00 00 00 00 0c 00 03 80 08 00 01 00 01 00 46 4e 30 00 01 80 0e 00 01 00 69 6d 6d 65
        64 69 61 74 65 00 00 00 1c 00 02 80 08 00 01 00 00 00 00 00 10 00 02 80 0c 00 02 80 08 00 01 00
        00 00 00 01
        """,
        // type 0x0a06, nft flags 0xc01
        """
        02 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0c 00 02 00 69 6e 67 72 65 73 73 00
        94 01 04 80 24 00 01 80 09 00 01 00 6d 65 74 61 00 00 00 00 14 00 02 80 08 00 02 00 00 00 00 06
        08 00 01 00 00 00 00 01 38 00 01 80 08 00 01 00 63 6d 70 00 2c 00 02 80 08 00 01 00 00 00 00 01
        08 00 02 00 00 00 00 00 18 00 03 80 14 00 01 00 65 74 68 31 00 00 00 00 00 00 00 00 00 00 00 00
        24 00 01 80 09 00 01 00 6d 65 74 61 00 00 00 00 14 00 02 80 08 00 02 00 00 00 00 10 08 00 01 00
        00 00 00 01 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00
        00 00 00 00 0c 00 03 80 05 00 01 00 06 00 00 00 34 00 01 80 0c 00 01 00 70 61 79 6c 6f 61 64 00
        24 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00 00 00 00 02 08 00 03 00 00 00 00 02 08 00 04 00
        00 00 00 02 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00
        00 00 00 00 0c 00 03 80 06 00 01 00 00 50 00 00 34 00 01 80 0c 00 01 00 70 61 79 6c 6f 61 64 00
        24 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00 00 00 00 02 08 00 03 00 00 00 00 0d 08 00 04 00
        00 00 00 01 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00
        00 00 00 00 0c 00 03 80 05 00 01 00 11 00 00 00 24 00 01 80 0a 00 01 00 71 75 65 75 65 00 00 00
        14 00 02 80 06 00 01 00 00 07 00 00 06 00 02 00 00 01 00 00
        """,
        // type 0x0a00, nft flags 0x1
        """
        0a 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 08 00 02 00 00 00 00 00
        """,
        // type 0x0a03, nft flags 0x401
        """
        0a 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0b 00 03 00 65 67 72 65 73 73 00 00
        0b 00 07 00 66 69 6c 74 65 72 00 00 08 00 05 00 00 00 00 01 14 00 04 80 08 00 01 00 00 00 00 04
        08 00 02 00 00 00 00 00
        """,
        // type 0x0a03, nft flags 0x401
        """
        0a 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0c 00 03 00 69 6e 67 72 65 73 73 00
        0b 00 07 00 66 69 6c 74 65 72 00 00 08 00 05 00 00 00 00 01 14 00 04 80 08 00 01 00 00 00 00 00
        08 00 02 00 00 00 00 00
        """,
        // type 0x0a06, nft flags 0xc01
        """
        0a 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0b 00 02 00 65 67 72 65 73 73 00 00
        84 00 04 80 24 00 01 80 09 00 01 00 6d 65 74 61 00 00 00 00 14 00 02 80 08 00 02 00 00 00 00 03
        08 00 01 00 00 00 00 01 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01
        08 00 02 00 00 00 00 00 0c 00 03 80 08 00 01 00 01 00 46 4e 30 00 01 80 0e 00 01 00 69 6d 6d 65
        64 69 61 74 65 00 00 00 1c 00 02 80 08 00 01 00 00 00 00 00 10 00 02 80 0c 00 02 80 08 00 01 00
        00 00 00 01
        """,
        // type 0x0a06, nft flags 0xc01
        """
        0a 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0b 00 02 00 65 67 72 65 73 73 00 00
        f0 00 04 80 34 00 01 80 0c 00 01 00 70 61 79 6c 6f 61 64 00 24 00 02 80 08 00 01 00 00 00 00 01
        08 00 02 00 00 00 00 01 08 00 03 00 00 00 00 08 08 00 04 00 00 00 00 10 5c 00 01 80 0c 00 01 00
        62 69 74 77 69 73 65 00 4c 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00 00 00 00 01 08 00 03 00
        00 00 00 10 18 00 04 80 14 00 01 00 ff ff ff ff ff ff ff f8 00 00 00 00 00 00 00 00 18 00 05 80
        14 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 38 00 01 80 08 00 01 00 63 6d 70 00
        2c 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00 00 00 00 00 18 00 03 80 14 00 01 00 fd 77 00 01
        00 00 00 00 00 00 00 00 00 00 00 00 24 00 01 80 0a 00 01 00 71 75 65 75 65 00 00 00 14 00 02 80
        06 00 01 00 00 07 00 00 06 00 02 00 00 01 00 00
        """,
        // type 0x0a06, nft flags 0xc01
        """
        0a 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0c 00 02 00 69 6e 67 72 65 73 73 00
        84 00 04 80 24 00 01 80 09 00 01 00 6d 65 74 61 00 00 00 00 14 00 02 80 08 00 02 00 00 00 00 03
        08 00 01 00 00 00 00 01 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01
        08 00 02 00 00 00 00 00 0c 00 03 80 08 00 01 00 01 00 46 4e 30 00 01 80 0e 00 01 00 69 6d 6d 65
        64 69 61 74 65 00 00 00 1c 00 02 80 08 00 01 00 00 00 00 00 10 00 02 80 0c 00 02 80 08 00 01 00
        00 00 00 01
        """,
        // type 0x0a06, nft flags 0xc01
        """
        0a 00 00 00 0d 00 01 00 6e 65 74 66 61 75 6c 74 00 00 00 00 0c 00 02 00 69 6e 67 72 65 73 73 00
        94 01 04 80 24 00 01 80 09 00 01 00 6d 65 74 61 00 00 00 00 14 00 02 80 08 00 02 00 00 00 00 06
        08 00 01 00 00 00 00 01 38 00 01 80 08 00 01 00 63 6d 70 00 2c 00 02 80 08 00 01 00 00 00 00 01
        08 00 02 00 00 00 00 00 18 00 03 80 14 00 01 00 65 74 68 31 00 00 00 00 00 00 00 00 00 00 00 00
        24 00 01 80 09 00 01 00 6d 65 74 61 00 00 00 00 14 00 02 80 08 00 02 00 00 00 00 10 08 00 01 00
        00 00 00 01 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00
        00 00 00 00 0c 00 03 80 05 00 01 00 06 00 00 00 34 00 01 80 0c 00 01 00 70 61 79 6c 6f 61 64 00
        24 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00 00 00 00 02 08 00 03 00 00 00 00 02 08 00 04 00
        00 00 00 02 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00
        00 00 00 00 0c 00 03 80 06 00 01 00 00 50 00 00 34 00 01 80 0c 00 01 00 70 61 79 6c 6f 61 64 00
        24 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00 00 00 00 02 08 00 03 00 00 00 00 0d 08 00 04 00
        00 00 00 01 2c 00 01 80 08 00 01 00 63 6d 70 00 20 00 02 80 08 00 01 00 00 00 00 01 08 00 02 00
        00 00 00 00 0c 00 03 80 05 00 01 00 11 00 00 00 24 00 01 80 0a 00 01 00 71 75 65 75 65 00 00 00
        14 00 02 80 06 00 01 00 00 07 00 00 06 00 02 00 00 01 00 00
        """,
        // type 0x0011, nft flags 0x1
        """
        00 00 00 0a
        """,
    ]

    static let NFT_MSG_NEWTABLE: UInt16 = 0x0a00, NFT_MSG_DELTABLE: UInt16 = 0x0a02
    static let NFT_MSG_NEWCHAIN: UInt16 = 0x0a03, NFT_MSG_NEWRULE: UInt16 = 0x0a06
    static let NFNL_MSG_BATCH_BEGIN: UInt16 = 0x10, NFNL_MSG_BATCH_END: UInt16 = 0x11
    static let NFTA_RULE_EXPRESSIONS: UInt16 = 4, NFTA_RULE_COMPAT: UInt16 = 5

    /// Payloads are nft's byte for byte. Flags differ on purpose: netfault asks
    /// for an ack of every request (NLM_F_ACK 0x4; nft only listens for errors),
    /// and creates the fresh table and its chains exclusively (NLM_F_EXCL 0x200,
    /// plus NLM_F_CREATE 0x400 on the table, which nft leaves out there).
    @Test func wholeBatchMatchesNft() throws {
        let batch = try NftablesQueueRules.messages(Self.rules, queue: 7, target: .nativeExpression, skipMark: Self.skipMark)
        #expect(batch.count == Self.nftPayloads.count)
        for (index, (message, nft)) in zip(batch, Self.nftPayloads).enumerated() {
            #expect(Array(message.bytes[16...]) == KT.hex(nft), "message \(index): \(message.operation)")
            #expect(KT.header(message.bytes).length == UInt32(message.bytes.count))
        }
        let expected: [(type: UInt16, flags: UInt16)] = [
            (Self.NFNL_MSG_BATCH_BEGIN, 0x1),
            (Self.NFT_MSG_NEWTABLE, 0x405), (Self.NFT_MSG_DELTABLE, 0x5),    // add + delete table ip
            (Self.NFT_MSG_NEWTABLE, 0x405), (Self.NFT_MSG_DELTABLE, 0x5),    // add + delete table ip6
            (Self.NFT_MSG_NEWTABLE, 0x605),                                   // table ip netfault
            (Self.NFT_MSG_NEWCHAIN, 0x605), (Self.NFT_MSG_NEWCHAIN, 0x605),  // egress, ingress
            (Self.NFT_MSG_NEWRULE, 0xc05), (Self.NFT_MSG_NEWRULE, 0xc05),    // egress: skip, queue
            (Self.NFT_MSG_NEWRULE, 0xc05), (Self.NFT_MSG_NEWRULE, 0xc05),    // ingress: skip, queue
            (Self.NFT_MSG_NEWTABLE, 0x605),                                   // table ip6 netfault
            (Self.NFT_MSG_NEWCHAIN, 0x605), (Self.NFT_MSG_NEWCHAIN, 0x605),
            (Self.NFT_MSG_NEWRULE, 0xc05), (Self.NFT_MSG_NEWRULE, 0xc05),
            (Self.NFT_MSG_NEWRULE, 0xc05), (Self.NFT_MSG_NEWRULE, 0xc05),
            (Self.NFNL_MSG_BATCH_END, 0x1),
        ]
        #expect(batch.map { KT.header($0.bytes).type } == expected.map(\.type))
        #expect(batch.map { KT.header($0.bytes).flags } == expected.map(\.flags))
    }

    /// The same rules as `nft --debug=netlink -f rules.nft` printed them (pasted).
    @Test func expressionsReadAsNftDebugOutput() {
        let lines = { (rule: QueueRule) in
            (NftablesQueueRules.conditions(rule) + [NftablesQueueRules.queueExpression(7, .nativeExpression)]).map(\.description)
        }
        #expect(NftablesQueueRules.skipExpressions(Self.skipMark).map(\.description) == [
            "[ meta load mark => reg 1 ]",
            "[ cmp eq reg 1 0x4e460001 ]",
            "[ immediate reg 0 accept ]",
        ])
        #expect(lines(Self.rules[0]) == [
            "[ meta load oifname => reg 1 ]",
            "[ cmp eq reg 1 0x30687465 0x00000000 0x00000000 0x00000000 ]",
            "[ payload load 3b @ network header + 12 => reg 1 ]",
            "[ cmp eq reg 1 0x00014d0a ]",
            "[ payload load 4b @ network header + 16 => reg 1 ]",
            "[ cmp eq reg 1 0x03024d0a ]",
            "[ meta load l4proto => reg 1 ]",
            "[ cmp eq reg 1 0x00000006 ]",
            "[ payload load 4b @ transport header + 0 => reg 1 ]",
            "[ cmp eq reg 1 0x901f0900 ]",
            "[ payload load 1b @ transport header + 13 => reg 1 ]",
            "[ bitwise reg 1 = ( reg 1 & 0x00000012 ) ^ 0x00000000 ]",
            "[ cmp eq reg 1 0x00000002 ]",
            "[ queue num 7 ]",
        ])
        #expect(lines(Self.rules[1]) == [
            "[ meta load iifname => reg 1 ]",
            "[ cmp eq reg 1 0x31687465 0x00000000 0x00000000 0x00000000 ]",
            "[ meta load l4proto => reg 1 ]",
            "[ cmp eq reg 1 0x00000006 ]",
            "[ payload load 2b @ transport header + 2 => reg 1 ]",
            "[ cmp eq reg 1 0x00005000 ]",
            "[ payload load 1b @ transport header + 13 => reg 1 ]",
            "[ cmp eq reg 1 0x00000011 ]",
            "[ queue num 7 ]",
        ])
        #expect(lines(Self.rules[2]) == [
            "[ payload load 16b @ network header + 8 => reg 1 ]",
            "[ bitwise reg 1 = ( reg 1 & 0xffffffff 0xf8ffffff 0x00000000 0x00000000 ) ^ 0x00000000 0x00000000 0x00000000 0x00000000 ]",
            "[ cmp eq reg 1 0x010077fd 0x00000000 0x00000000 0x00000000 ]",
            "[ queue num 7 ]",
        ])
        // `iifname "veth1" ip saddr 10.77.16.0/20 queue num 3` and `ip6 saddr fd77:1::/64
        // ip6 daddr fd77:2::5 meta l4proto tcp queue num 0`, from an earlier nft run.
        let v4 = QueueRule(hook: .prerouting, inputInterface: "veth1", tcpOnly: false, source: AddressPrefix("10.77.16.0/20"))
        #expect((NftablesQueueRules.conditions(v4) + [.queue(3)]).map(\.description) == [
            "[ meta load iifname => reg 1 ]",
            "[ cmp eq reg 1 0x68746576 0x00000031 0x00000000 0x00000000 ]",
            "[ payload load 4b @ network header + 12 => reg 1 ]",
            "[ bitwise reg 1 = ( reg 1 & 0x00f0ffff ) ^ 0x00000000 ]",
            "[ cmp eq reg 1 0x00104d0a ]",
            "[ queue num 3 ]",
        ])
        let v6 = QueueRule(hook: .prerouting, source: AddressPrefix("fd77:1::/64"), destination: AddressPrefix("fd77:2::5"))
        #expect((NftablesQueueRules.conditions(v6) + [.queue(0)]).map(\.description) == [
            "[ payload load 8b @ network header + 8 => reg 1 ]",
            "[ cmp eq reg 1 0x010077fd 0x00000000 ]",
            "[ payload load 16b @ network header + 24 => reg 1 ]",
            "[ cmp eq reg 1 0x020077fd 0x00000000 0x00000000 0x05000000 ]",
            "[ meta load l4proto => reg 1 ]",
            "[ cmp eq reg 1 0x00000006 ]",
            "[ queue num 0 ]",
        ])
    }

    /// One NFTA_LIST_ELEM of an expression list, found by its NFTA_EXPR_NAME.
    func element(_ name: String, of rule: NetlinkMessage) throws -> [UInt8] {
        let expressions = try #require(KT.attr(KT.walk(rule.bytes[20...]), Self.NFTA_RULE_EXPRESSIONS))
        let element = try #require(KT.walk(expressions.value[...]).first { element in
            KT.attr(KT.walk(element.value[...]), 1)?.value == Array(name.utf8) + [0]
        })
        return KT.le16(UInt16(4 + element.value.count)) + KT.le16(0x8001) + element.value
    }

    /// The compat target and NFTA_RULE_COMPAT are iptables-nft's bytes exactly
    /// (its rules also carry a `counter`, which netfault does not add).
    @Test func compatTargetMatchesIptablesNft() throws {
        // iptables-nft -A OUTPUT -p tcp --tcp-flags SYN,ACK SYN -j NFQUEUE --queue-num 0
        let tcpRule = QueueRule(hook: .postrouting, tcpFlags: [.synWithoutAck])
        let tcp = try NftablesQueueRules.messages([tcpRule], queue: 0, target: .compatTarget, skipMark: Self.skipMark)
        let tcpQueueRule = tcp[tcp.count - 2]
        #expect(try element("target", of: tcpQueueRule) == KT.strace(
            #"\x34\x00\x01\x80\x0b\x00\x01\x00\x74\x61\x72\x67\x65\x74\x00\x00\x24\x00\x02\x80\x0c\x00\x01\x00\x4e\x46\x51\x55\x45\x55\x45\x00\x08\x00\x02\x00\x00\x00\x00\x03\x0c\x00\x03\x00\x00\x00\x01\x00\x00\x00\x00\x00"#))
        #expect(KT.attr(KT.walk(tcpQueueRule.bytes[20...]), Self.NFTA_RULE_COMPAT).map { KT.le16(UInt16(4 + $0.value.count)) + KT.le16(0x8005) + $0.value }
                == KT.strace(#"\x14\x00\x05\x80\x08\x00\x01\x00\x00\x00\x00\x06\x08\x00\x02\x00\x00\x00\x00\x00"#))
        // Its other expressions are the ones nft sends for `meta l4proto tcp tcp flags & (syn | ack) == syn`
        // (iptables-nft's bitwise lacks NFTA_BITWISE_OP, which nft sends as 0).
        #expect((NftablesQueueRules.conditions(tcpRule) + [.nfqueueTarget(0)]).map(\.description) == [
            "[ meta load l4proto => reg 1 ]",
            "[ cmp eq reg 1 0x00000006 ]",
            "[ payload load 1b @ transport header + 13 => reg 1 ]",
            "[ bitwise reg 1 = ( reg 1 & 0x00000012 ) ^ 0x00000000 ]",
            "[ cmp eq reg 1 0x00000002 ]",
            "[ target name NFQUEUE rev 3 ]",
        ])
        #expect(try element("meta", of: tcpQueueRule) == KT.strace(
            #"\x24\x00\x01\x80\x09\x00\x01\x00\x6d\x65\x74\x61\x00\x00\x00\x00\x14\x00\x02\x80\x08\x00\x02\x00\x00\x00\x00\x10\x08\x00\x01\x00\x00\x00\x00\x01"#))

        // iptables-nft -t mangle -A POSTROUTING -j NFQUEUE --queue-num 5: no -p, so proto 0.
        let any = try NftablesQueueRules.messages([QueueRule(hook: .postrouting, tcpOnly: false)], queue: 5,
                                                  target: .compatTarget, skipMark: Self.skipMark)
        let anyQueueRule = any[any.count - 2]
        #expect(try element("target", of: anyQueueRule) == KT.strace(
            #"\x34\x00\x01\x80\x0b\x00\x01\x00\x74\x61\x72\x67\x65\x74\x00\x00\x24\x00\x02\x80\x0c\x00\x01\x00\x4e\x46\x51\x55\x45\x55\x45\x00\x08\x00\x02\x00\x00\x00\x00\x03\x0c\x00\x03\x00\x05\x00\x01\x00\x00\x00\x00\x00"#))
        #expect(KT.attr(KT.walk(anyQueueRule.bytes[20...]), Self.NFTA_RULE_COMPAT)?.value
                == KT.strace(#"\x08\x00\x01\x00\x00\x00\x00\x00\x08\x00\x02\x00\x00\x00\x00\x00"#))
        // The skip rule has no xtables part, so no NFTA_RULE_COMPAT; native rules have none either.
        #expect(KT.attr(KT.walk(any[any.count - 3].bytes[20...]), Self.NFTA_RULE_COMPAT) == nil)
        let native = try NftablesQueueRules.messages([tcpRule], queue: 0, target: .nativeExpression, skipMark: Self.skipMark)
        #expect(KT.attr(KT.walk(native[native.count - 2].bytes[20...]), Self.NFTA_RULE_COMPAT) == nil)
    }

    /// nft's bitwise for `iifname "veth1" ip saddr 10.77.16.0/20 queue num 3`, from
    /// the same kind of capture: a prefix mask without NFTA_BITWISE_OP.
    @Test func ipv4PrefixMaskMatchesNft() throws {
        let rule = QueueRule(hook: .prerouting, inputInterface: "veth1", tcpOnly: false, source: AddressPrefix("10.77.16.0/20"))
        let batch = try NftablesQueueRules.messages([rule], queue: 3, target: .nativeExpression, skipMark: Self.skipMark)
        #expect(try element("bitwise", of: batch[batch.count - 2]) == KT.hex("""
            44 00 01 80 0c 00 01 00 62 69 74 77 69 73 65 00 34 00 02 80 08 00 01 00 00 00 00 01
            08 00 02 00 00 00 00 01 08 00 03 00 00 00 00 04 0c 00 04 80 08 00 01 00 ff ff f0 00
            0c 00 05 80 08 00 01 00 00 00 00 00
            """))
    }

    @Test func noRulesOnlyRemovesTheTables() throws {
        let batch = try NftablesQueueRules.messages([], queue: 0, target: .compatTarget, skipMark: Self.skipMark)
        #expect(batch.map(\.operation) == [
            "nfnetlink batch begin",
            "nft add table ip netfault", "nft delete table ip netfault",
            "nft add table ip6 netfault", "nft delete table ip6 netfault",
            "nfnetlink batch end",
        ])
    }

    @Test func familiesFollowTheAddressesAndChainsTheHooks() throws {
        let v4Ingress = QueueRule(hook: .prerouting, destination: AddressPrefix("10.77.3.0/24"))
        let batch = try NftablesQueueRules.messages([v4Ingress], queue: 2, target: .compatTarget, skipMark: Self.skipMark)
        #expect(Array(batch.map(\.operation).dropFirst(5)) == [
            "nft create table ip netfault",
            "nft create chain ip netfault ingress { type filter hook prerouting priority 0; policy accept; }",
            "nft add rule ip netfault ingress meta mark 0x4e460001 accept",
            "nft add rule ip netfault ingress ip daddr 10.77.3.0/24 meta l4proto tcp xt target NFQUEUE --queue-num 2",
            "nfnetlink batch end",
        ])
        // A /0 prefix matches the whole family: no payload expressions, only the family's table.
        let everyV6 = QueueRule(hook: .postrouting, tcpOnly: false, source: AddressPrefix("::/0"))
        #expect(NftablesQueueRules.conditions(everyV6).isEmpty)
        let v6 = try NftablesQueueRules.messages([everyV6], queue: 2, target: .nativeExpression, skipMark: Self.skipMark)
        #expect(v6.map(\.operation).contains("nft create table ip6 netfault"))
        #expect(!v6.map(\.operation).contains("nft create table ip netfault"))
    }

    @Test func invalidRulesAreRefusedWithEveryProblem() {
        let rules = [
            QueueRule(hook: .postrouting, source: AddressPrefix("10.77.1.0/24"), destination: AddressPrefix("fd77::/64")),
            QueueRule(hook: .prerouting, outputInterface: "eth0"),
            QueueRule(hook: .postrouting, inputInterface: "a-very-long-name0"),
            QueueRule(hook: .postrouting, tcpFlags: [TCPFlagMatch(mask: TCPFlagMatch.syn, value: TCPFlagMatch.ack)]),
            QueueRule(hook: .postrouting, tcpFlags: [TCPFlagMatch(mask: 0, value: 0)]),
        ]
        #expect(throws: QueueRuleError(problems: [
            "rule 1: source 10.77.1.0/24 and destination fd77::/64 are of different address families",
            "rule 2: an output interface never matches on the prerouting hook (no route is chosen yet)",
            "rule 3: interface name \"a-very-long-name0\" must have 1 to 15 bytes (IFNAMSIZ)",
            "rule 4: tcp flags & 0x02 == 0x10 is meaningless: the value must be a non-empty subset of the mask",
            "rule 5: tcp flags & 0x00 == 0x00 is meaningless: the value must be a non-empty subset of the mask",
            "skip mark 0 would exempt every unmarked packet from the queue",
        ])) {
            try NftablesQueueRules.messages(rules, queue: 0, target: .compatTarget, skipMark: 0)
        }
        #expect(QueueRule(hook: .postrouting, outputInterface: "eth0", tcpFlags: [.has(TCPFlagMatch.fin)]).problems.isEmpty)
    }

    @Test func addressPrefixes() {
        #expect(AddressPrefix("10.77.1.5/24")?.description == "10.77.1.0/24")
        #expect(AddressPrefix("10.77.1.5") == AddressPrefix(address: IPAddress("10.77.1.5")!, length: 32))
        #expect(AddressPrefix("fd77:1::9/61")?.description == "fd77:1::/61")
        #expect(AddressPrefix("fd77::1")?.length == 128)
        #expect(AddressPrefix("10.77.1.0/33") == nil)
        #expect(AddressPrefix("10.77.1.0/-1") == nil)
        #expect(AddressPrefix("10.77.1.0/") == nil)
        #expect(AddressPrefix("10.77.1.0/24/1") == nil)
        #expect(AddressPrefix("nowhere/24") == nil)
    }

    @Test func portsAloneAndFlagsImplyTCP() {
        let rule = QueueRule(hook: .postrouting, tcpOnly: false, sourcePort: 443)
        #expect(NftablesQueueRules.conditions(rule).map(\.description) == [
            "[ meta load l4proto => reg 1 ]",
            "[ cmp eq reg 1 0x00000006 ]",
            "[ payload load 2b @ transport header + 0 => reg 1 ]",
            "[ cmp eq reg 1 0x0000bb01 ]",
        ])
        #expect(NftablesQueueRules.conditions(QueueRule(hook: .postrouting, tcpOnly: false)).isEmpty)
    }
}

/// The rules installed for real into fresh namespaces on this kernel, checked
/// with `nft` run inside the namespace, and a queued SYN read from the queue.
@Suite(.enabled(if: KT.canManageNetworks, KT.needsRoot))
struct NftablesQueueRulesKernelTests {
    static let skipMark: UInt32 = 0x4e46_0001

    /// `nft ARGUMENTS` run inside the namespace (fork → setns → exec): its output.
    /// nft 1.0.6 warns on stderr about every table holding an xtables target
    /// ("# Warning: table ip netfault is managed by iptables-nft, do not touch!");
    /// nothing else may appear there.
    static func nft(_ arguments: String..., in namespace: NetworkNamespace) throws -> String {
        let path = try #require(ExecutableLookup.resolve("nft", path: "/usr/sbin:/sbin:/usr/bin"), "nft (Debian: nftables) is needed")
        let child = try ChildProcess(.executable(path: path, arguments: arguments), in: namespace, environment: [:], t0: MonotonicClock.now())
        #expect(child.wait(timeoutSeconds: 10))
        let complaints = child.standardError.split(separator: "\n").filter {
            !($0.hasPrefix("# Warning: table ") && $0.hasSuffix(" is managed by iptables-nft, do not touch!"))
        }
        #expect(complaints.isEmpty, "nft \(arguments.joined(separator: " ")): \(child.standardError)")
        return child.standardOutput
    }

    static let rules = [
        QueueRule(hook: .postrouting, outputInterface: "nfq-a", tcpFlags: [.synWithoutAck], destinationPort: 8080,
                  destination: AddressPrefix("10.77.247.2")),
        QueueRule(hook: .prerouting, tcpFlags: [.has(TCPFlagMatch.fin)]),
        QueueRule(hook: .postrouting, tcpOnly: false, source: AddressPrefix("fd77:247::/64")),
    ]

    /// `nft list ruleset` inside the namespace after installing `rules` (queue 3):
    /// nft hides the `meta l4proto tcp` that `tcp dport` implies, and prints the
    /// xtables NFQUEUE target as `queue num 3`.
    static let listing = """
        table ip netfault {
        \tchain egress {
        \t\ttype filter hook postrouting priority filter; policy accept;
        \t\tmeta mark 0x4e460001 accept
        \t\toifname "nfq-a" ip daddr 10.77.247.2 tcp dport 8080 tcp flags syn / syn,ack queue num 3
        \t}

        \tchain ingress {
        \t\ttype filter hook prerouting priority filter; policy accept;
        \t\tmeta mark 0x4e460001 accept
        \t\ttcp flags & fin == fin queue num 3
        \t}
        }
        table ip6 netfault {
        \tchain egress {
        \t\ttype filter hook postrouting priority filter; policy accept;
        \t\tmeta mark 0x4e460001 accept
        \t\tip6 saddr fd77:247::/64 queue num 3
        \t}

        \tchain ingress {
        \t\ttype filter hook prerouting priority filter; policy accept;
        \t\tmeta mark 0x4e460001 accept
        \t\ttcp flags & fin == fin queue num 3
        \t}
        }\n
        """

    @Test func compatTargetInstallsExactlyTheRules() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-nftlist")
            try NftablesQueueRules.install(Self.rules, queue: 3, target: .compatTarget, skipMark: Self.skipMark, in: ns)
            let text = try Self.nft("list", "ruleset", in: ns)
            #expect(text == Self.listing, "\(text)")

            // The queue statements are the xtables target (nft prints it as `queue num 3` above).
            let json = try Self.nft("-j", "list", "ruleset", in: ns)
            let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])["nftables"] as? [[String: Any]]
            let rules = try #require(objects).compactMap { $0["rule"] as? [String: Any] }
            #expect(rules.map { "\($0["family"]!) \($0["chain"]!)" } == [
                "ip egress", "ip egress", "ip ingress", "ip ingress", "ip6 egress", "ip6 egress", "ip6 ingress", "ip6 ingress",
            ])
            let lastExpressions = rules.map { (($0["expr"] as? [[String: Any]])?.last ?? [:]) }
            let targets = lastExpressions.compactMap { $0["xt"] as? [String: Any] }.map { "\($0["type"]!) \($0["name"]!)" }
            #expect(targets == Array(repeating: "target NFQUEUE", count: 4))
            #expect(lastExpressions.filter { $0["accept"] != nil }.count == 4)

            // Installing again replaces (no rule twice); fewer rules drop a family's table; remove empties it.
            try NftablesQueueRules.install(Self.rules, queue: 3, target: .compatTarget, skipMark: Self.skipMark, in: ns)
            #expect(try Self.nft("list", "ruleset", in: ns) == Self.listing)
            try NftablesQueueRules.install([Self.rules[0]], queue: 3, target: .compatTarget, skipMark: Self.skipMark, in: ns)
            let v4Only = try Self.nft("list", "ruleset", in: ns)
            #expect(!v4Only.contains("table ip6") && !v4Only.contains("chain ingress") && v4Only.contains("chain egress"), "\(v4Only)")
            try NftablesQueueRules.remove(in: ns)
            #expect(try Self.nft("list", "ruleset", in: ns) == "")
        }
    }

    /// This kernel (6.18 on Firecracker) has no native `queue` expression: the rule
    /// is refused with ENOENT, named, and the transaction leaves nothing behind.
    /// On a kernel that has it, the same rules install.
    @Test func nativeExpressionNeedsNftQueue() throws {
        try KT.leavesNoTrace {
            let native = KernelProbes.nftQueueExpression().present
            let ns = try NetworkNamespace(name: "nfkt-nftnative")
            let rule = QueueRule(hook: .postrouting, tcpFlags: [.synWithoutAck])
            do {
                try NftablesQueueRules.install([rule], queue: 0, target: .nativeExpression, skipMark: Self.skipMark, in: ns)
                #expect(native, "the native queue expression was accepted although the probe says it is missing")
                // nft lists the expression as `queue to 0` (nft ≥ 1.0) or `queue num 0` (older).
                let listed = try Self.nft("list", "ruleset", in: ns)
                #expect(listed.contains("queue to 0") || listed.contains("queue num 0"), "\(listed)")
            } catch let error as KernelError {
                #expect(!native, "\(error)")
                #expect(error.errno == ENOENT, "\(error)")
                #expect(error.operation == "nft add rule ip netfault egress meta l4proto tcp tcp flags & 0x12 == 0x02 queue num 0")
                #expect(try Self.nft("list", "ruleset", in: ns) == "")
            }
        }
    }

    // MARK: - A packet really queued

    static let NETLINK_NETFILTER: Int32 = 12
    static let NFNL_SUBSYS_QUEUE: UInt16 = 3, NFQNL_MSG_PACKET: UInt16 = 0, NFQNL_MSG_CONFIG: UInt16 = 2
    static let NFQA_CFG_CMD: UInt16 = 1, NFQA_CFG_PARAMS: UInt16 = 2, NFQA_PAYLOAD: UInt16 = 10
    static let NFQNL_CFG_CMD_BIND: UInt8 = 1, NFQNL_COPY_PACKET: UInt8 = 2

    /// Binds a NETLINK_NETFILTER socket inside the namespace to queue `number`, copying
    /// whole packets (a minimal stand-in for the NFQUEUE socket of Netfilter/Nfqueue*.swift).
    static func bindQueue(_ number: UInt16, in namespace: NetworkNamespace) throws -> NetlinkSocket {
        let socket = try NetlinkSocket(namespace: namespace, protocol: Self.NETLINK_NETFILTER)
        let bind = NetlinkMessage(type: NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_CONFIG, flags: .nlRequestAck,
                                  operation: "nfqueue bind queue \(number)") { m in
            m.putHeader(Nfnetlink.genHeader(family: UInt8(AF_UNSPEC), resourceID: number))
            // struct nfqnl_msg_config_cmd { u8 command; u8 pad; be16 pf; }
            m.put(NFQA_CFG_CMD, bytes: [NFQNL_CFG_CMD_BIND, 0] + Nfnetlink.bigEndian(UInt16(AF_INET)))
            // struct nfqnl_msg_config_params { be32 copy_range; u8 copy_mode; } (packed)
            m.put(NFQA_CFG_PARAMS, bytes: Nfnetlink.bigEndian(UInt32(0xFFFF)) + [NFQNL_COPY_PACKET])
        }
        try socket.perform([bind])
        return socket
    }

    static func setTimeout(_ fd: Int32, _ option: Int32, seconds: Double) {
        var limit = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        precondition(setsockopt(fd, SOL_SOCKET, option, &limit, socklen_t(MemoryLayout<timeval>.size)) == 0)
    }

    /// NFQA_PAYLOAD of the next queued packet, or nil when none comes within `seconds`.
    static func nextPacket(_ socket: NetlinkSocket, within seconds: Double) throws -> [UInt8]? {
        setTimeout(socket.fd, SO_RCVTIMEO, seconds: seconds)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count: Int
            do {
                count = try Sys.receive(socket.fd, into: &buffer, operation: "recv on the queue socket")
            } catch let error as KernelError where error.errno == EAGAIN {
                return nil
            }
            for message in try NetlinkDecoder.messages(buffer[0..<count])
            where message.type == NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET {
                return try Nfnetlink.attributes(message)[NFQA_PAYLOAD].map(Array.init)
            }
        }
    }

    /// A blocking TCP connect from inside the namespace, given up after `seconds`
    /// (SO_SNDTIMEO: then EINPROGRESS), optionally with SO_MARK: 0 or the errno.
    static func connect(from namespace: NetworkNamespace, to address: IPAddress, port: UInt16, mark: UInt32?, seconds: Double) throws -> Int32 {
        let fd = try Sys.socket(inNamespace: namespace.fd, domain: address.family, type: Int32(SOCK_STREAM.rawValue), protocol: 0,
                                operation: "socket in \(namespace.name)")
        defer { Sys.close(fd) }
        if var mark {
            #expect(setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<UInt32>.size)) == 0)
        }
        setTimeout(fd, SO_SNDTIMEO, seconds: seconds)
        var target = sockaddr_in6()  // large enough for either family
        withUnsafeMutableBytes(of: &target) { raw in
            if address.isIPv6 {
                raw.storeBytes(of: sa_family_t(AF_INET6), toByteOffset: 0, as: sa_family_t.self)
                raw.storeBytes(of: port.bigEndian, toByteOffset: 2, as: UInt16.self)
                for (index, byte) in address.bytes.enumerated() { raw[8 + index] = byte }   // sin6_addr
            } else {
                raw.storeBytes(of: sa_family_t(AF_INET), toByteOffset: 0, as: sa_family_t.self)
                raw.storeBytes(of: port.bigEndian, toByteOffset: 2, as: UInt16.self)
                for (index, byte) in address.bytes.enumerated() { raw[4 + index] = byte }   // sin_addr
            }
        }
        let length = socklen_t(address.isIPv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let result = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        return result == 0 ? 0 : errno
    }

    @Test func synIsQueuedUnlessItCarriesTheSkipMark() throws {
        try KT.leavesNoTrace {
            let a = try NetworkNamespace(name: "nfkt-nftq-a"), b = try NetworkNamespace(name: "nfkt-nftq-b")
            let server = IPAddress("10.77.247.2")!
            try a.rtnetlink().perform([
                Rtnetlink.newVeth(name: "nfq-a", index: 5, peer: "nfq-b", peerIndex: 6, peerNamespaceFD: b.fd, mtu: nil),
                Rtnetlink.newAddress(IPAddress("10.77.247.1")!, prefixLength: 24, linkIndex: 5, link: "nfq-a"),
                Rtnetlink.setUp(index: 1, name: "lo"),
                Rtnetlink.setUp(index: 5, name: "nfq-a"),
            ])
            try b.rtnetlink().perform([
                Rtnetlink.newAddress(server, prefixLength: 24, linkIndex: 6, link: "nfq-b"),
                Rtnetlink.setUp(index: 6, name: "nfq-b"),
            ])
            let listener = try ChildProcess(.peer(PeerScript(["listen", "\(server)", "8080", "hold"])),
                                            in: b, environment: [:], t0: MonotonicClock.now())
            defer { listener.terminate() }
            let diag = try NetlinkSocket.sockDiag(in: b)
            #expect(try KT.eventually { try !SockDiag.dump(diag, family: AF_INET).isEmpty }, "\(listener.standardError)")

            try NftablesQueueRules.install([QueueRule(hook: .postrouting, outputInterface: "nfq-a", tcpFlags: [.synWithoutAck],
                                                      destinationPort: 8080)],
                                           queue: 0, target: .compatTarget, skipMark: Self.skipMark, in: a)
            let queue = try Self.bindQueue(0, in: a)

            // Marked: accepted by the first rule of the chain, so it connects and nothing is queued.
            #expect(try Self.connect(from: a, to: server, port: 8080, mark: Self.skipMark, seconds: 3) == 0)
            #expect(try Self.nextPacket(queue, within: 0.3) == nil)

            // Unmarked: the SYN goes to queue 0 and, with no verdict, never leaves.
            #expect(try Self.connect(from: a, to: server, port: 8080, mark: nil, seconds: 0.3) == EINPROGRESS)
            let packet = try #require(try Self.nextPacket(queue, within: 3))
            try #require(packet.count >= 40 && packet[0] >> 4 == 4, "not IPv4: \(packet)")
            let headerLength = Int(packet[0] & 0x0F) * 4
            #expect(packet[9] == 6, "IPPROTO_TCP")
            #expect(Array(packet[16..<20]) == server.bytes)
            #expect(UInt16(packet[headerLength + 2]) << 8 | UInt16(packet[headerLength + 3]) == 8080)
            #expect(packet[headerLength + 13] == TCPFlagMatch.syn, "flags \(packet[headerLength + 13])")
            // The kernel retransmits the SYN (1 s later): queued again, never past the queue.
        }
    }

    /// The ip6 table: a rule with an IPv6 destination queues an IPv6 SYN.
    @Test func ipv6SynIsQueued() throws {
        try KT.leavesNoTrace {
            let a = try NetworkNamespace(name: "nfkt-nftq6-a"), b = try NetworkNamespace(name: "nfkt-nftq6-b")
            let server = IPAddress("fd77:247::2")!
            try a.rtnetlink().perform([
                Rtnetlink.newVeth(name: "nfq6-a", index: 5, peer: "nfq6-b", peerIndex: 6, peerNamespaceFD: b.fd, mtu: nil),
                Rtnetlink.newAddress(IPAddress("fd77:247::1")!, prefixLength: 64, linkIndex: 5, link: "nfq6-a"),
                Rtnetlink.setUp(index: 1, name: "lo"),
                Rtnetlink.setUp(index: 5, name: "nfq6-a"),
            ])
            try b.rtnetlink().perform([
                Rtnetlink.newAddress(server, prefixLength: 64, linkIndex: 6, link: "nfq6-b"),
                Rtnetlink.setUp(index: 6, name: "nfq6-b"),
            ])
            try NftablesQueueRules.install([QueueRule(hook: .postrouting, tcpFlags: [.synWithoutAck],
                                                      destination: AddressPrefix("fd77:247::/64"))],
                                           queue: 0, target: .compatTarget, skipMark: Self.skipMark, in: a)
            let queue = try Self.bindQueue(0, in: a)
            #expect(try Self.connect(from: a, to: server, port: 8080, mark: nil, seconds: 0.3) == EINPROGRESS)
            let packet = try #require(try Self.nextPacket(queue, within: 3))
            try #require(packet.count >= 60 && packet[0] >> 4 == 6, "not IPv6: \(packet)")
            #expect(packet[6] == 6, "next header TCP")
            #expect(Array(packet[24..<40]) == server.bytes)
            #expect(packet[40 + 13] == TCPFlagMatch.syn)
        }
    }
}
