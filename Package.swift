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
    // The floor of Synchronization's `Mutex`, which DialogueSync uses (README, "Layout");
    // the server's Hummingbird needs less.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "DialogueModel", targets: ["DialogueModel"]),
        .library(name: "DialogueSync", targets: ["DialogueSync"]),
        .executable(name: "dialogue-server", targets: ["dialogue-server"]),
        .executable(name: "dialogue-client", targets: ["dialogue-client"]),
        .executable(name: "dialogue-bench", targets: ["dialogue-bench"]),
        .executable(name: "dialogue-server-bench", targets: ["dialogue-server-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // `swift package generate-documentation` (the DocC catalogs of DialogueModel and DialogueSync).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Pure core: identifiers, clocks, CRDTs, domain, changes and their codec, and the
        // trust core (keys, signed statements, hash chains). No I/O.
        .target(name: "DialogueModel", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Storage, merge engine, sync primitives: what an app or the CLI links.
        .target(
            name: "DialogueSync",
            dependencies: [
                "DialogueModel", "DialogueGzip", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                // The sync client's transport (GuardedTransport): bounds every body, 3xx included.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The sync service: stores, sync validation, access, HTTP routes. A library so tests run it in-process.
        .target(
            name: "DialogueServer",
            dependencies: [
                "DialogueSync",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                "DialogueGzip",
            ],
            resources: [.copy("Resources/openapi.yaml")]
        ),
        .executableTarget(
            name: "dialogue-server",
            dependencies: ["DialogueServer", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "dialogue-client",
            dependencies: [
                "DialogueSync", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // System zlib, for reading gzip'd traces and measuring compressed sizes.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // gzip over the system zlib: HTTP bodies, traces, compressed sizes.
        .target(name: "DialogueGzip", dependencies: ["CZlib"]),
        // Trace loading and seeded randomness shared by tests and the benchmark.
        .target(name: "DialogueTestSupport", dependencies: ["DialogueModel", "DialogueGzip"]),
        .executableTarget(
            name: "dialogue-bench",
            dependencies: [
                "DialogueModel", "DialogueSync", "DialogueTestSupport", "DialogueGzip",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // The server benchmarks, apart from dialogue-bench so the server's libraries do not
        // weigh on the CRDT benchmark's memory figure.
        .executableTarget(
            name: "dialogue-server-bench",
            dependencies: [
                "DialogueSync", "DialogueServer", "DialogueTestSupport", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Exists only for the crash test (ReplicaCrashTests): edits and merges until SIGKILLed.
        .executableTarget(name: "dialogue-crash-worker", dependencies: ["DialogueSync"]),
        .testTarget(
            name: "DialogueServerTests",
            dependencies: [
                "DialogueServer", "DialogueTestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "DialogueClientTests", dependencies: ["DialogueSync", "DialogueServer", "DialogueTestSupport"],
            exclude: ["Snapshots", "Fixtures"]),  // read by path (snapshots to compare with, old stores to upgrade)
        .testTarget(
            name: "DialogueModelTests", dependencies: ["DialogueModel", "DialogueTestSupport"],
            exclude: ["Fixtures"]),  // FugueMax counterexamples, read by path and replayed
        // The fuzz targets' entry points: the `dialogue-fuzz` executable (a fuzz build only)
        // and the replay tests both call them, so a crasher replays exactly what the fuzzer ran.
        .target(
            name: "DialogueFuzzTargets",
            dependencies: [
                "DialogueModel", "DialogueSync", "DialogueServer", "DialogueGzip",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DialogueFuzzTests", dependencies: ["DialogueFuzzTargets"],
            exclude: ["Fixtures"]),  // crashers, read by path and replayed through the fuzz targets
        .testTarget(name: "DialogueSyncTests", dependencies: ["DialogueSync", "DialogueTestSupport"], resources: [.copy("Fixtures")]),
    ]
)

// libFuzzer's `main` drives `dialogue-fuzz`, so it links only in a fuzz build
// (`scripts/fuzz`: DIALOGUE_FUZZ=1, `-sanitize=fuzzer,address`, scratch path .build-fuzz).
if Context.environment["DIALOGUE_FUZZ"] == "1" {
    package.targets.append(
        .executableTarget(
            name: "dialogue-fuzz", dependencies: ["DialogueFuzzTargets"], swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    package.products.append(.executable(name: "dialogue-fuzz", targets: ["dialogue-fuzz"]))
}

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSwiftSettings
}
