// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "netfault",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Netfault", targets: ["Netfault"]),
        .library(name: "NetfaultScenarios", targets: ["NetfaultScenarios"]),
        .executable(name: "netfault", targets: ["netfault"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C shim: libmnl, libpcap, uapi headers, macros Swift cannot import, fork→setns→exec, the peer.
        .target(
            name: "CNetfault",
            linkerSettings: [.linkedLibrary("mnl"), .linkedLibrary("pcap")]
        ),
        // The only module that makes system calls.
        .target(name: "NetfaultKernel", dependencies: ["CNetfault"]),
        // The public library: DSL, model, validation, runner, expectations, reports.
        .target(name: "Netfault", dependencies: ["NetfaultKernel"]),
        // The catalog of SCENARIOS.md, one file per behaviour.
        .target(name: "NetfaultScenarios", dependencies: ["Netfault"], path: "Scenarios"),
        .executableTarget(
            name: "netfault",
            dependencies: [
                "Netfault", "NetfaultScenarios",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "NetfaultKernelTests", dependencies: ["NetfaultKernel"]),
        .testTarget(name: "NetfaultTests", dependencies: ["Netfault", "NetfaultScenarios"]),
        .testTarget(name: "NetfaultCLITests", dependencies: ["netfault"]),
    ],
    swiftLanguageModes: [.v6]
)
