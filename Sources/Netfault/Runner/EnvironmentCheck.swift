import NetfaultKernel

/// The machine cannot run scenarios (exit code 3): what is missing.
public struct EnvironmentError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum EnvironmentCheck {
    /// Root, or CAP_NET_ADMIN and CAP_SYS_ADMIN (namespaces, mounts), effective.
    public static func requirePrivileges() throws {
        if !Privileges.canManageNetworks {
            throw EnvironmentError("netfault needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces; run it with sudo")
        }
    }
}
