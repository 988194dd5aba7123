// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "netfault",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Netfault", targets: ["Netfault"]),
        .library(name: "NetfaultScenarios", targets: ["NetfaultScenarios"]),
        .library(name: "NetfaultCLI", targets: ["NetfaultCLI"]),
        .executable(name: "netfault", targets: ["netfault"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` (scripts/docs.sh): the DocC catalog of Netfault.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The scripted socket peer (`Peer` steps, `netfault peer`): a program of its own, in C
        // so that it runs in the forked child without exec and without malloc.
        .target(name: "NetfaultPeer"),
        // C shim: libmnl, libpcap, uapi headers, macros Swift cannot import, fork→setns→exec
        // (or → the peer).
        .target(
            name: "CNetfault",
            dependencies: ["NetfaultPeer"],
            linkerSettings: [.linkedLibrary("mnl"), .linkedLibrary("pcap")]
        ),
        // libbpf, apart: its <linux/bpf.h> and libpcap's <pcap/bpf.h> clash in one module.
        .target(name: "CNetfaultBPF", linkerSettings: [.linkedLibrary("bpf")]),
        // The only module that makes system calls; it embeds the BPF programs of bpf/.
        .target(name: "NetfaultKernel", dependencies: ["CNetfault", "CNetfaultBPF", "NetfaultPeer"], plugins: ["BPFObjectPlugin"]),
        // Compiles bpf/*.bpf.c with clang -target bpf and embeds the object as Swift source.
        .plugin(name: "BPFObjectPlugin", capability: .buildTool(), dependencies: ["netfault-embed-bytes"]),
        .executableTarget(name: "netfault-embed-bytes"),
        // The public library: DSL, model, validation, runner, expectations, reports.
        .target(name: "Netfault", dependencies: ["NetfaultKernel"]),
        // The catalog of SCENARIOS.md, one file per behaviour.
        .target(name: "NetfaultScenarios", dependencies: ["Netfault"], path: "Scenarios"),
        // The command line, for netfault's catalog or anyone's (NetfaultCLI.main(catalog:)).
        .target(
            name: "NetfaultCLI",
            dependencies: ["Netfault", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "netfault", dependencies: ["NetfaultCLI", "NetfaultScenarios"]),
        // Scenarios that are wrong on purpose, behind the same command line: the bad
        // inputs of the CLI tests and scripts/reliability.
        .executableTarget(name: "netfault-fixtures", dependencies: ["NetfaultCLI"], path: "Tests/Fixtures",
                          exclude: ["not-a-program"]),
        // Netfault too: BPFCaptureTests cuts the capture's GSO records with `GSOSegments`.
        .testTarget(name: "NetfaultKernelTests", dependencies: ["NetfaultKernel", "Netfault"]),
        // What more than one test target uses (the JSON Schema validator).
        .target(name: "NetfaultTestSupport", path: "Tests/Support"),
        .testTarget(name: "NetfaultTests", dependencies: ["Netfault", "NetfaultScenarios", "NetfaultTestSupport"]),
        .testTarget(name: "NetfaultCLITests", dependencies: ["netfault", "netfault-fixtures", "NetfaultTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
