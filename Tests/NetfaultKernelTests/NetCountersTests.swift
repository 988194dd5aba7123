import Glibc
import Testing
@testable import NetfaultKernel

@Suite struct NetCounterParserTests {
    /// Shaped like /proc/net/snmp on Linux 6.18 (lines cut short).
    static let snmp = """
        Ip: Forwarding DefaultTTL InReceives InHdrErrors
        Ip: 2 64 660 0
        Icmp: InMsgs InErrors InCsumErrors
        Icmp: 1 0 0
        Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
        Tcp: 1 200 120000 -1 11 2 0 0 0 238 170 5 0 3 0
        Udp: InDatagrams NoPorts InErrors OutDatagrams
        Udp: 421 0 0 422

        """

    /// Shaped like /proc/net/netstat (TcpExt and IpExt, cut short).
    static let netstat = """
        TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts TW ListenOverflows ListenDrops TCPTimeouts
        TcpExt: 0 0 0 0 10 4 4 2
        IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InOctets OutOctets
        IpExt: 0 0 0 0 9454098 26060

        """

    @Test func parsesSnmpWithPrefixedNames() {
        let counters = NetCounterParser.parse(Self.snmp)
        #expect(counters["TcpActiveOpens"] == 11)
        #expect(counters["TcpPassiveOpens"] == 2)
        #expect(counters["TcpRetransSegs"] == 5)
        #expect(counters["TcpOutRsts"] == 3)
        #expect(counters["TcpMaxConn"] == -1)
        #expect(counters["TcpRtoMax"] == 120_000)
        #expect(counters["IpDefaultTTL"] == 64)
        #expect(counters["IcmpInMsgs"] == 1)
        #expect(counters["UdpOutDatagrams"] == 422)
        #expect(counters.count == 4 + 3 + 15 + 4)
        #expect(counters["ActiveOpens"] == nil)
    }

    @Test func parsesNetstatWithPrefixedNames() {
        let counters = NetCounterParser.parse(Self.netstat)
        #expect(counters["TcpExtListenOverflows"] == 4)
        #expect(counters["TcpExtListenDrops"] == 4)
        #expect(counters["TcpExtTW"] == 10)
        #expect(counters["TcpExtTCPTimeouts"] == 2)
        #expect(counters["IpExtInOctets"] == 9_454_098)
        #expect(counters["IpExtOutOctets"] == 26_060)
        #expect(counters.count == 8 + 6)
    }

    @Test func bothFilesTogether() {
        let counters = NetCounterParser.parse(Self.snmp + Self.netstat)
        #expect(counters.count == 26 + 14)
        #expect(counters["TcpActiveOpens"] == 11 && counters["TcpExtListenOverflows"] == 4)
    }

    @Test func malformedLinesAreIgnored() {
        let text = """
            garbage without a colon
            Tcp: ActiveOpens PassiveOpens
            Udp: 1 2
            Tcp: ActiveOpens PassiveOpens
            Tcp: 5 6 7
            Ip: Forwarding DefaultTTL
            Ip: 1 notanumber
            Icmp: InMsgs
            lonely line
            TcpExt: ListenOverflows
            TcpExt: 9
            IpExt: InOctets
            """
        let counters = NetCounterParser.parse(text)
        // Mismatched prefixes and counts are skipped; the pair after them still parses.
        #expect(counters == ["IpForwarding": 1, "TcpExtListenOverflows": 9])
    }

    @Test func emptyTextHasNoCounters() {
        #expect(NetCounterParser.parse("").isEmpty)
        #expect(NetCounterParser.parse("Tcp: ActiveOpens\n").isEmpty)
    }

    @Test func deltaLeavesOutUnchangedCounters() {
        let before: [String: Int64] = ["TcpActiveOpens": 11, "TcpExtListenOverflows": 4, "TcpRetransSegs": 5, "TcpMaxConn": -1]
        let after: [String: Int64] = ["TcpActiveOpens": 14, "TcpExtListenOverflows": 4, "TcpRetransSegs": 5, "TcpMaxConn": -1,
                                      "TcpExtTCPTimeouts": 2, "IpExtInOctets": 0]
        let delta = NetCounterParser.delta(from: before, to: after)
        // New counters count from zero: a new zero is no change.
        #expect(delta == ["TcpActiveOpens": 3, "TcpExtTCPTimeouts": 2])
        #expect(NetCounterParser.delta(from: after, to: after).isEmpty)
        #expect(NetCounterParser.delta(from: ["TcpCurrEstab": 3], to: ["TcpCurrEstab": 1]) == ["TcpCurrEstab": -2])
    }
}

@Suite(.enabled(if: KT.canManageNetworks, KT.needsRoot))
struct NetCounterReaderTests {
    /// The reader in a fresh namespace: real /proc/net/snmp and netstat text,
    /// counters of that namespace only (nothing has happened there yet).
    @Test func readsAFreshNamespace() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-counters")
            let reader = try NetCounterReader(namespace: ns)
            let counters = try reader.read()
            #expect(counters["TcpActiveOpens"] == 0)
            #expect(counters["TcpMaxConn"] == -1)
            #expect(counters["TcpExtListenOverflows"] == 0)
            #expect(counters["IpExtInOctets"] == 0)
            #expect(counters.count > 100)
            // Same counters as the root namespace's files, except the IcmpMsg group,
            // which lists only the ICMP types seen so far (none in a new namespace).
            let root = NetCounterParser.parse((MachineInfo.readFile("/proc/net/snmp") ?? "") + (MachineInfo.readFile("/proc/net/netstat") ?? ""))
            #expect(Set(root.keys.filter { !$0.hasPrefix("IcmpMsg") }) == Set(counters.keys))
            #expect(!counters.keys.contains { $0.hasPrefix("IcmpMsg") })
            #expect(try NetCounterParser.delta(from: counters, to: reader.read()).isEmpty)
        }
    }
}
