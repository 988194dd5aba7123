import ArgumentParser
import Foundation
import Netfault

/// `--sysctl HOST:NAME=VALUE` (repeatable) and `--host-sysctls`, shared by `run` and `sweep`.
struct TuningOptions: ParsableArguments {
    @Option(name: .customLong("sysctl"),
            help: ArgumentHelp("Set a sysctl on HOST (* for every host) for this run, over the scenario's own; repeatable, a later one wins.",
                               valueName: "HOST:NAME=VALUE"))
    var sysctls: [String] = []

    @Flag(name: .customLong("host-sysctls"),
          help: "Start every namespace from this machine's own values of the per-namespace net.* sysctls that differ from a new namespace's (the scenario's Sysctl and --sysctl win over them).")
    var hostSysctls = false

    /// Every --sysctl parsed; a malformed one is a usage error (exit 2).
    func assignments(allowingLists: Bool) throws -> [SysctlAssignment] {
        try sysctls.map { text in
            do {
                return try SysctlAssignment(parsing: text, allowingLists: allowingLists)
            } catch let error as SysctlAssignment.ParseError {
                throw ValidationError(error.description)
            }
        }
    }

    /// This machine's differing sysctls (needs root: exit 3 without), said on stderr.
    func machineSysctls() -> [HostSysctl] {
        guard hostSysctls else { return [] }
        do {
            try EnvironmentCheck.requirePrivileges()
            let found = try HostSysctls.read()
            let list = found.isEmpty ? "none differ from a new namespace's"
                : found.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")
            FileHandle.standardError.write(Data("netfault: --host-sysctls: \(list)\n".utf8))
            return found
        } catch {
            Preflight.fail("cannot run here: \(error)", ExitStatus.environment)
        }
    }

    /// The scenarios as this run runs them.
    func apply(to scenarios: [Scenario]) throws -> [Scenario] {
        let overrides = try assignments(allowingLists: false).flatMap(\.overrides)
        let machine = machineSysctls()
        return scenarios.map { $0.tuned(overrides: overrides, hostSysctls: machine) }
    }
}
