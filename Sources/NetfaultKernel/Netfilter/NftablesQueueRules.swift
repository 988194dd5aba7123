import CNetfault

/// How a rule hands its packets to the queue.
public enum QueueTarget: Sendable, Equatable {
    /// The xtables NFQUEUE target, revision 3, through nft_compat: what
    /// `iptables-nft -j NFQUEUE` installs. Kernels without the native expression
    /// (such as these machines' 6.18) have it.
    case compatTarget
    /// The native nft `queue` expression (nft_queue): most distribution kernels.
    case nativeExpression
}

/// The nf_tables rules that send the packets some fault may touch to an NFQUEUE,
/// installed as one nfnetlink transaction over NETLINK_NETFILTER.
public enum NftablesQueueRules {
    public static let table = "netfault"
    /// Chain names: egress holds the postrouting rules, ingress the prerouting ones.
    public static let egressChain = "egress"
    public static let ingressChain = "ingress"

    /// Equivalent to `nft -f` of
    /// ```
    /// add table ip netfault; delete table ip netfault
    /// add table ip6 netfault; delete table ip6 netfault
    /// table ip netfault {
    ///   chain egress { type filter hook postrouting priority 0; policy accept;
    ///     meta mark SKIP accept
    ///     oifname "eth0" … meta l4proto tcp tcp dport 80 … queue num QUEUE } }
    /// table ip6 netfault { … }
    /// ```
    /// inside one batch: whatever netfault installed before is replaced atomically
    /// (no rules: both tables are removed). A family's table exists only when some
    /// rule applies to it, and a chain only for a hook some rule uses. Every chain
    /// first accepts packets carrying `skipMark` (re-injected by netfault: never
    /// queued twice). Throws `QueueRuleError` for rules that cannot mean what they say.
    public static func messages(_ rules: [QueueRule], queue: UInt16, target: QueueTarget, skipMark: UInt32) throws -> [NetlinkMessage] {
        try validate(rules, skipMark: skipMark)
        var messages = [Nfnetlink.batch(Nfnetlink.msgBatchBegin)]
        for family in Family.allCases {
            messages += [addTable(family), deleteTable(family)]
        }
        for family in Family.allCases {
            let familyRules = rules.filter { $0.isIPv6 == nil || $0.isIPv6 == (family == .ip6) }
            guard !familyRules.isEmpty else { continue }
            let hooks = [QueueRule.Hook.postrouting, .prerouting].filter { hook in familyRules.contains { $0.hook == hook } }
            messages.append(createTable(family))
            messages += hooks.map { newChain(family, hook: $0) }
            for hook in hooks {
                messages.append(newRule(family, hook: hook, skipExpressions(skipMark),
                                        text: "meta mark \(hex(skipMark)) accept", compatProtocol: nil))
                for rule in familyRules where rule.hook == hook {
                    let expressions = conditions(rule) + [queueExpression(queue, target)]
                    messages.append(newRule(family, hook: hook, expressions, text: text(rule, family: family, queue: queue, target: target),
                                            compatProtocol: target == .compatTarget ? (rule.matchesTCP ? 6 : 0) : nil))
                }
            }
        }
        messages.append(Nfnetlink.batch(Nfnetlink.msgBatchEnd))
        return messages
    }

    /// Sends `messages(…)` as one transaction on a NETLINK_NETFILTER socket inside
    /// the namespace. All or nothing: on any error nothing changes, and the
    /// `KernelError` names the first failing request (ENOENT for a rule when the
    /// kernel lacks the expression or target it uses). No bypass: a packet that
    /// matches while no socket is bound to the queue is dropped, so bind first.
    public static func install(_ rules: [QueueRule], queue: UInt16, target: QueueTarget, skipMark: UInt32,
                               in namespace: NetworkNamespace) throws {
        let batch = try messages(rules, queue: queue, target: target, skipMark: skipMark)
        let socket = try NetlinkSocket(namespace: namespace, protocol: NETLINK_NETFILTER)
        // The batch markers are never acked (the begin one only answers a failure).
        try socket.perform(batch, unacknowledged: [0, batch.count - 1])
    }

    /// Equivalent to `nft delete table ip netfault; nft delete table ip6 netfault`,
    /// without failing when they do not exist.
    public static func remove(in namespace: NetworkNamespace) throws {
        try install([], queue: 0, target: .compatTarget, skipMark: 1, in: namespace)
    }

    // MARK: - Rule contents

    /// The conditions of a rule, in the order nft emits them for
    /// `oifname … iifname … ip saddr … ip daddr … meta l4proto tcp tcp sport … tcp dport … tcp flags …`.
    static func conditions(_ rule: QueueRule) -> [NftExpression] {
        var result: [NftExpression] = []
        if let name = rule.outputInterface { result += [.metaLoad(.oifname), .compareEqual(interfaceName(name))] }
        if let name = rule.inputInterface { result += [.metaLoad(.iifname), .compareEqual(interfaceName(name))] }
        if let source = rule.source { result += address(source, isSource: true) }
        if let destination = rule.destination { result += address(destination, isSource: false) }
        if rule.matchesTCP { result += [.metaLoad(.l4proto), .compareEqual([6])] }  // IPPROTO_TCP
        result += ports(source: rule.sourcePort, destination: rule.destinationPort)
        for flags in rule.tcpFlags {
            // Byte 13 of the TCP header; nft leaves out the bitwise for a full mask.
            result.append(.payloadLoad(.transport, offset: 13, length: 1))
            if flags.mask != 0xFF { result.append(.bitwiseAnd(mask: [flags.mask], prefix: false)) }
            result.append(.compareEqual([flags.value]))
        }
        return result
    }

    /// `meta mark SKIP accept`: the mark is a host-order u32.
    static func skipExpressions(_ mark: UInt32) -> [NftExpression] {
        [.metaLoad(.mark), .compareEqual(withUnsafeBytes(of: mark) { Array($0) }), .accept]
    }

    static func queueExpression(_ queue: UInt16, _ target: QueueTarget) -> NftExpression {
        target == .compatTarget ? .nfqueueTarget(queue) : .queue(queue)
    }

    /// The name zero-padded to IFNAMSIZ (16), as nft compares `oifname "eth0"`.
    static func interfaceName(_ name: String) -> [UInt8] {
        let bytes = Array(name.utf8.prefix(15))
        return bytes + [UInt8](repeating: 0, count: 16 - bytes.count)
    }

    /// `ip saddr 10.77.1.0/24` loads the prefix's whole bytes; a prefix that ends
    /// inside a byte loads the whole address and masks it (`ip saddr 10.77.16.0/20`).
    /// IPv4 source/destination at 12/16 of the header, IPv6 at 8/24.
    static func address(_ prefix: AddressPrefix, isSource: Bool) -> [NftExpression] {
        guard prefix.length > 0 else { return [] }
        let offset: UInt32 = prefix.isIPv6 ? (isSource ? 8 : 24) : (isSource ? 12 : 16)
        let bytes = prefix.address.bytes
        if prefix.length % 8 == 0 {
            let count = prefix.length / 8
            return [.payloadLoad(.network, offset: offset, length: UInt32(count)), .compareEqual(Array(bytes.prefix(count)))]
        }
        let mask = IPAddress(bytes: [UInt8](repeating: 0xFF, count: bytes.count))!.network(prefixLength: prefix.length).bytes
        return [.payloadLoad(.network, offset: offset, length: UInt32(bytes.count)), .bitwiseAnd(mask: mask, prefix: true), .compareEqual(bytes)]
    }

    /// `tcp sport S tcp dport D`: both ports in one 4-byte load, as nft and iptables-nft merge them.
    static func ports(source: UInt16?, destination: UInt16?) -> [NftExpression] {
        switch (source, destination) {
        case let (source?, destination?):
            [.payloadLoad(.transport, offset: 0, length: 4), .compareEqual(Nfnetlink.bigEndian(source) + Nfnetlink.bigEndian(destination))]
        case let (source?, nil):
            [.payloadLoad(.transport, offset: 0, length: 2), .compareEqual(Nfnetlink.bigEndian(source))]
        case let (nil, destination?):
            [.payloadLoad(.transport, offset: 2, length: 2), .compareEqual(Nfnetlink.bigEndian(destination))]
        case (nil, nil):
            []
        }
    }

    // MARK: - Messages

    enum Family: CaseIterable {
        case ip, ip6
        var proto: UInt8 { self == .ip ? Nfnetlink.protoIPv4 : Nfnetlink.protoIPv6 }
        var name: String { self == .ip ? "ip" : "ip6" }
    }

    static func chain(_ hook: QueueRule.Hook) -> String { hook == .postrouting ? egressChain : ingressChain }

    private static func nfTables(_ message: nf_tables_msg_types, _ family: Family, flags: Int32, operation: String,
                                 _ build: (NetlinkMessageWriter) -> Void) -> NetlinkMessage {
        NetlinkMessage(type: Nfnetlink.type(Nfnetlink.subsysNFTables, UInt16(message.rawValue)), flags: flags, operation: operation) { m in
            m.putHeader(Nfnetlink.genHeader(family: family.proto, resourceID: 0))
            build(m)
        }
    }

    /// `add table ip netfault`: creates it unless it exists (no NLM_F_EXCL).
    static func addTable(_ family: Family) -> NetlinkMessage {
        nfTables(NFT_MSG_NEWTABLE, family, flags: .nlRequestAck | NLM_F_CREATE, operation: "nft add table \(family.name) \(table)") { m in
            m.put(UInt16(NFTA_TABLE_NAME.rawValue), string: table)
            m.put(u32be: NFTA_TABLE_FLAGS.rawValue, 0)
        }
    }

    /// `delete table ip netfault`, with its chains and rules.
    static func deleteTable(_ family: Family) -> NetlinkMessage {
        nfTables(NFT_MSG_DELTABLE, family, flags: .nlRequestAck, operation: "nft delete table \(family.name) \(table)") { m in
            m.put(UInt16(NFTA_TABLE_NAME.rawValue), string: table)
        }
    }

    /// `create table ip netfault` (the old one is deleted earlier in the batch).
    static func createTable(_ family: Family) -> NetlinkMessage {
        nfTables(NFT_MSG_NEWTABLE, family, flags: .nlCreateExclusive, operation: "nft create table \(family.name) \(table)") { m in
            m.put(UInt16(NFTA_TABLE_NAME.rawValue), string: table)
            m.put(u32be: NFTA_TABLE_FLAGS.rawValue, 0)
        }
    }

    /// `create chain ip netfault egress { type filter hook postrouting priority 0; policy accept; }`.
    static func newChain(_ family: Family, hook: QueueRule.Hook) -> NetlinkMessage {
        let hookName = hook == .postrouting ? "postrouting" : "prerouting"
        return nfTables(NFT_MSG_NEWCHAIN, family, flags: .nlCreateExclusive,
                        operation: "nft create chain \(family.name) \(table) \(chain(hook)) { type filter hook \(hookName) priority 0; policy accept; }") { m in
            m.put(UInt16(NFTA_CHAIN_TABLE.rawValue), string: table)
            m.put(UInt16(NFTA_CHAIN_NAME.rawValue), string: chain(hook))
            m.put(UInt16(NFTA_CHAIN_TYPE.rawValue), string: "filter")
            m.put(u32be: NFTA_CHAIN_POLICY.rawValue, Nfnetlink.verdictAccept)
            m.nest(UInt16(NFTA_CHAIN_HOOK.rawValue)) {
                m.put(u32be: NFTA_HOOK_HOOKNUM.rawValue, hook == .postrouting ? Nfnetlink.hookPostrouting : Nfnetlink.hookPrerouting)
                m.put(u32be: NFTA_HOOK_PRIORITY.rawValue, 0)
            }
        }
    }

    /// `add rule ip netfault CHAIN …`. With the compat target, NFTA_RULE_COMPAT
    /// { proto, flags 0 } as iptables-nft sends it (proto 6 with `-p tcp`, else 0).
    static func newRule(_ family: Family, hook: QueueRule.Hook, _ expressions: [NftExpression], text: String,
                        compatProtocol: UInt32?) -> NetlinkMessage {
        nfTables(NFT_MSG_NEWRULE, family, flags: .nlRequestAck | NLM_F_CREATE | Nfnetlink.flagAppend,
                 operation: "nft add rule \(family.name) \(table) \(chain(hook)) \(text)") { m in
            m.put(UInt16(NFTA_RULE_TABLE.rawValue), string: table)
            m.put(UInt16(NFTA_RULE_CHAIN.rawValue), string: chain(hook))
            m.nest(UInt16(NFTA_RULE_EXPRESSIONS.rawValue)) {
                for expression in expressions { expression.write(into: m) }
            }
            if let compatProtocol {
                m.nest(UInt16(NFTA_RULE_COMPAT.rawValue)) {
                    m.put(u32be: NFTA_RULE_COMPAT_PROTO.rawValue, compatProtocol)
                    m.put(u32be: NFTA_RULE_COMPAT_FLAGS.rawValue, 0)
                }
            }
        }
    }

    // MARK: - Validation and text

    static func validate(_ rules: [QueueRule], skipMark: UInt32) throws {
        var problems = rules.enumerated().flatMap { index, rule in rule.problems.map { "rule \(index + 1): \($0)" } }
        if skipMark == 0 {
            problems.append("skip mark 0 would exempt every unmarked packet from the queue")
        }
        if !problems.isEmpty { throw QueueRuleError(problems: problems) }
    }

    /// The rule in nft syntax, for error messages.
    static func text(_ rule: QueueRule, family: Family, queue: UInt16, target: QueueTarget) -> String {
        var words: [String] = []
        if let name = rule.outputInterface { words.append("oifname \"\(name)\"") }
        if let name = rule.inputInterface { words.append("iifname \"\(name)\"") }
        if let source = rule.source { words.append("\(family.name) saddr \(source)") }
        if let destination = rule.destination { words.append("\(family.name) daddr \(destination)") }
        if rule.matchesTCP { words.append("meta l4proto tcp") }
        if let port = rule.sourcePort { words.append("tcp sport \(port)") }
        if let port = rule.destinationPort { words.append("tcp dport \(port)") }
        words += rule.tcpFlags.map(\.description)
        words.append(target == .compatTarget ? "xt target NFQUEUE --queue-num \(queue)" : "queue num \(queue)")
        return words.joined(separator: " ")
    }

    private static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
