import CNetfault
import Glibc

/// A network namespace held by a file descriptor: it lives as long as this
/// object (and the processes inside it), and vanishes when both are gone.
/// The orchestrator itself never enters it.
public final class NetworkNamespace {
    public let name: String
    public let fd: Int32
    private var routeSocket: NetlinkSocket?
    private var pinPath: String?

    /// Equivalent to `ip netns add NAME`, without the /run/netns mount. Made from the
    /// nursery where there is one, so it has a TCP hash table of its own.
    public convenience init(name: String) throws {
        try self.init(name: name, nursery: NamespaceNursery.shared)
    }

    init(name: String, nursery: NamespaceNursery?) throws {
        self.name = name
        fd = try Sys.netnsCreate(parent: nursery?.namespace.fd ?? -1, sysctls: nursery?.tableSizedDefaults ?? [])
    }

    deinit {
        routeSocket = nil
        if let pinPath {
            Sys.unpin(pinPath)
            CleanupRegistry.remove(pin: pinPath)
        }
        Sys.close(fd)
    }

    /// The namespace's inode, its identity in the kernel (`ls -Li /run/netns/NAME`): what
    /// the event programs see as `net->ns.inum`.
    public func inode() throws -> UInt32 {
        UInt32(truncatingIfNeeded: try Sys.inode(of: fd, operation: "fstat of namespace \(name)"))
    }

    /// The namespace's rtnetlink socket, opened once.
    public func rtnetlink() throws -> NetlinkSocket {
        if let routeSocket { return routeSocket }
        let socket = try NetlinkSocket(namespace: self, protocol: NETLINK_ROUTE)
        routeSocket = socket
        return socket
    }

    /// Mounts the namespace at /run/netns/NAME so `ip netns exec NAME` can
    /// attach; undone when the namespace is released.
    /// Equivalent to the mount `ip netns add NAME` makes.
    public func pin(as pinName: String) throws {
        Sys.makeDirectory("/run/netns")
        let path = "/run/netns/\(pinName)"
        try Sys.pin(namespace: fd, at: path)
        do {
            try CleanupRegistry.add(pin: path)
        } catch {
            Sys.unpin(path)
            throw error
        }
        pinPath = path
    }

    /// Opens a file as seen from inside the namespace (/proc/thread-self/net/…,
    /// /proc/sys/net/…); the fd keeps that view.
    public func open(_ path: String, flags: Int32 = O_RDONLY) throws -> Int32 {
        try Sys.open(inNamespace: fd, path: path, flags: flags)
    }

    /// A datagram socket inside the namespace, for ioctls on its links.
    func controlSocket() throws -> Int32 {
        try Sys.socket(inNamespace: fd, domain: AF_INET, type: Int32(SOCK_DGRAM.rawValue), protocol: 0,
                       operation: "socket(AF_INET) in \(name)")
    }
}
