import Foundation
import PackagePlugin

/// Compiles the BPF programs in bpf/ with the toolchain's clang (`-target bpf`, CO-RE with
/// BTF from `-g`) and embeds the object in the target as generated Swift source, so the
/// binary carries its programs wherever it is copied (into a VM, say) and nothing built is
/// committed.
@main
struct BPFObjectPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let bpf = context.package.directoryURL.appending(path: "bpf")
        let source = bpf.appending(path: "tcp_events.bpf.c")
        let headers = ["kernel_types.h", "tcp_events.h"].map { bpf.appending(path: $0) }
        let object = context.pluginWorkDirectoryURL.appending(path: "tcp_events.bpf.o")
        let generated = context.pluginWorkDirectoryURL.appending(path: "TCPEventsObject.swift")
        return [
            .buildCommand(
                displayName: "Compiling BPF programs tcp_events.bpf.c",
                executable: try context.tool(named: "clang").url,
                arguments: [
                    "-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86",
                    // v3 (clang 21's default) turns the lost-event counter's atomic add into
                    // atomic_fetch_add, which verifiers before 5.12 refuse; v2 emits the old XADD.
                    "-mcpu=v2",
                    // libbpf 1.1's BPF_CORE_READ declares a const local that clang 21 warns about.
                    "-Wno-unknown-warning-option", "-Wno-default-const-init-var-unsafe",
                    "-I", bpf.path, "-c", source.path, "-o", object.path,
                ],
                inputFiles: [source] + headers,
                outputFiles: [object]
            ),
            .buildCommand(
                displayName: "Embedding tcp_events.bpf.o",
                executable: try context.tool(named: "netfault-embed-bytes").url,
                arguments: [object.path, generated.path, "TCPEventsObject"],
                inputFiles: [object],
                outputFiles: [generated]
            ),
        ]
    }
}
