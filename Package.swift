// swift-tools-version:6.1

import PackageDescription

/// One settings list for every target (as swift-log and hummingbird do): Swift 6 mode,
/// explicit `any`, imports visible only where declared, strict concurrency.
let sharedSwiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "dialogue",
    products: [
        .library(name: "DialogueModel", targets: ["DialogueModel"]),
        .library(name: "DialogueSync", targets: ["DialogueSync"]),
        .executable(name: "dialogue-server", targets: ["dialogue-server"]),
        .executable(name: "dialogue-client", targets: ["dialogue-client"]),
        .executable(name: "dialogue-bench", targets: ["dialogue-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Pure core: identifiers, clocks, CRDTs, domain, changes and their codec. No I/O.
        .target(name: "DialogueModel"),
        // Storage, merge engine, sync primitives: what an app or the CLI links.
        .target(
            name: "DialogueSync",
            dependencies: ["DialogueModel", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(name: "dialogue-server", dependencies: ["DialogueSync"]),
        .executableTarget(name: "dialogue-client", dependencies: ["DialogueSync"]),
        // System zlib, for reading gzip'd traces and measuring compressed sizes.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Trace loading and seeded randomness shared by tests and the benchmark.
        .target(name: "DialogueTestSupport", dependencies: ["DialogueModel", "CZlib"]),
        .executableTarget(
            name: "dialogue-bench",
            dependencies: [
                "DialogueModel", "DialogueSync", "DialogueTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // Exists only for the crash test (ReplicaCrashTests): edits and merges until SIGKILLed.
        .executableTarget(name: "dialogue-crash-worker", dependencies: ["DialogueSync"]),
        .testTarget(name: "DialogueModelTests", dependencies: ["DialogueModel", "DialogueTestSupport"]),
        .testTarget(name: "DialogueSyncTests", dependencies: ["DialogueSync", "DialogueTestSupport"], resources: [.copy("Fixtures")]),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSwiftSettings
}
