import Foundation
import PackagePlugin

/// Compiles the BPF programs in bpf/ with the toolchain's clang (`-target bpf`, CO-RE with
/// BTF from `-g`) and embeds the object in the target as generated Swift source, so the
/// binary carries its programs wherever it is copied (into a VM, say) and nothing built is
/// committed.
@main
struct BPFObjectPlugin: BuildToolPlugin {
    /// Each program source, the headers it includes, and the name of the generated enum.
    static let programs: [(source: String, headers: [String], name: String)] = [
        ("tcp_events", ["kernel_types.h", "tcp_events.h"], "TCPEventsObject"),
        ("fault_engine", ["kernel_types.h", "fault_engine.h", "tc_context.h"], "FaultEngineObject"),
        ("capture", ["kernel_types.h", "capture.h", "tc_context.h", "ring_wakeup.h"], "CaptureObject"),
        ("departures", ["kernel_types.h", "capture.h", "tc_context.h", "ring_wakeup.h"], "DeparturesObject"),
    ]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let bpf = context.package.directoryURL.appending(path: "bpf")
        let clang = try context.tool(named: "clang").url
        let embed = try context.tool(named: "netfault-embed-bytes").url
        return Self.programs.flatMap { program -> [Command] in
            let source = bpf.appending(path: "\(program.source).bpf.c")
            let headers = program.headers.map { bpf.appending(path: $0) }
            let object = context.pluginWorkDirectoryURL.appending(path: "\(program.source).bpf.o")
            let generated = context.pluginWorkDirectoryURL.appending(path: "\(program.name).swift")
            return [
                .buildCommand(
                    displayName: "Compiling BPF programs \(program.source).bpf.c",
                    executable: clang,
                    arguments: [
                        "-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86",
                        // v3 (clang 21's default) turns atomic adds into atomic_fetch_add,
                        // which verifiers before 5.12 refuse; v2 emits the old XADD.
                        "-mcpu=v2",
                        // libbpf 1.1's BPF_CORE_READ declares a const local that clang 21 warns about.
                        "-Wno-unknown-warning-option", "-Wno-default-const-init-var-unsafe",
                        "-I", bpf.path, "-c", source.path, "-o", object.path,
                    ],
                    inputFiles: [source] + headers,
                    outputFiles: [object]
                ),
                .buildCommand(
                    displayName: "Embedding \(program.source).bpf.o",
                    executable: embed,
                    arguments: [object.path, generated.path, program.name],
                    inputFiles: [object],
                    outputFiles: [generated]
                ),
            ]
        }
    }
}
