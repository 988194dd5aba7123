import Testing
@testable import NetfaultKernel

/// The event programs (bpf/tcp_events.bpf.c) load, pass the verifier and attach on the
/// running kernel; drop-reason names come from its BTF.
@Suite(.serialized) struct KernelEventsLoadTests {
    @Test(.enabled(if: KT.canManageNetworks, KT.needsRoot))
    func programsLoadAndAttach() throws {
        let events = try KernelEvents.shared.get()
        #expect(events.loadSeconds > 0)
        // Names, not numbers: the values differ between kernels, these names do not.
        #expect(events.dropReasons.values.contains("NO_SOCKET"))
        #expect(events.dropReasons.values.contains("NETFILTER_DROP"))
        // A subscription on an idle namespace finishes, and nothing of it arrives.
        let namespace = try NetworkNamespace(name: "nf-events-idle")
        let subscription = try events.subscribe(namespaces: [try namespace.inode()])
        let (received, lost) = try subscription.finish()
        #expect(received.isEmpty)
        #expect(lost == 0)
    }

    /// Every device's segments pass two of the programs: they are attached only while a
    /// subscription lives, and a second finish of one does not detach another's.
    @Test(.enabled(if: KT.canManageNetworks, KT.needsRoot))
    func programsAreAttachedOnlyWhileSubscribed() throws {
        let events = try KernelEvents.shared.get()
        #expect(events.programCount == 8)
        let first = try NetworkNamespace(name: "nf-events-a"), second = try NetworkNamespace(name: "nf-events-b")
        #expect(events.attachedNow == 0)
        let a = try events.subscribe(namespaces: [try first.inode()])
        #expect(events.attachedNow == events.programCount)
        let b = try events.subscribe(namespaces: [try second.inode()])
        _ = try a.finish()
        _ = try a.finish()
        #expect(events.attachedNow == events.programCount)
        _ = try b.finish()
        #expect(events.attachedNow == 0)
    }
}
