import DialogueTestSupport
import Foundation

@testable import DialogueModel

/// Random honest histories for the chain tests: several devices writing in several
/// spaces, every operation kind, grouped into transactions each ending with a signed head.
struct SignedHistory {
    struct Device {
        var key: SigningKeyPair
        var certificate: DeviceCertificate
    }

    /// Per (space, replica), the changes in counter order and the heads, one per transaction.
    struct Log {
        var changes: [Change] = []
        var heads: [ChainHead] = []
        var chain: DeviceChain
    }

    var serverKey: SigningKeyPair
    var devices: [ReplicaID: Device] = [:]
    var logs: [Key: Log] = [:]

    struct Key: Hashable {
        var space: SpaceID
        var replica: ReplicaID
    }

    var ring: ServerKeyRing { ServerKeyRing(pinned: serverKey.publicKey) }
    var certificates: [ReplicaID: DeviceCertificate] { devices.mapValues(\.certificate) }

    static func random(
        using random: inout SplitMix64, devices deviceCount: Int = 3, spaces spaceCount: Int = 2
    )
        -> SignedHistory
    {
        let serverKey = SigningKeyPair()
        var history = SignedHistory(serverKey: serverKey)
        let replicas = (0..<deviceCount).map { _ in ReplicaID.random(using: &random) }
        let spaces = (0..<spaceCount).map { _ in SpaceID.random(using: &random) }
        for replica in replicas {
            let key = SigningKeyPair()
            let certificate = DeviceCertificate.issue(
                replica: replica, publicKey: key.publicKey, member: UUID(), memberName: "member", school: UUID(),
                schoolName: "school", issuedAt: 1, signedBy: serverKey)
            history.devices[replica] = Device(key: key, certificate: certificate)
        }
        for space in spaces {
            for replica in replicas where Bool.random(using: &random) || space == spaces[0] {
                var log = Log(chain: DeviceChain(space: space, replica: replica))
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    for _ in 0..<Int.random(in: 1...4, using: &random) {
                        let change = Change(
                            id: Dot(replica, log.chain.counter + 1),
                            timestamp: HLCTimestamp(
                                wallTime: UInt64.random(in: 0...1 << 42, using: &random),
                                logical: UInt16.random(in: 0...3, using: &random)),
                            space: space, entity: EntityID.random(using: &random),
                            field: ["", "body", "title", "tags"].randomElement(using: &random)!,
                            dependencies: Bool.random(using: &random) ? [randomDot(replicas, &random)] : [],
                            operation: randomOperation(replicas, &random))
                        try! log.chain.advance(over: change)
                        log.changes.append(change)
                    }
                    log.heads.append(log.chain.head(signedBy: history.devices[replica]!.key))
                }
                history.logs[Key(space: space, replica: replica)] = log
            }
        }
        return history
    }

    /// The log's changes cut into runs at randomly chosen heads (the last one always).
    static func runs(of log: Log, using random: inout SplitMix64) -> [[Change]] {
        var ends = log.heads.map(\.counter).filter { _ in Bool.random(using: &random) }
        ends.append(log.chain.counter)
        var runs: [[Change]] = []
        var current: [Change] = []
        for change in log.changes {
            current.append(change)
            if ends.contains(change.lastCounter) {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }  // an altered change may end elsewhere
        return runs
    }

    private static func randomDot(_ replicas: [ReplicaID], _ random: inout SplitMix64) -> Dot {
        Dot(replicas.randomElement(using: &random)!, UInt64.random(in: 1...1000, using: &random))
    }

    private static func randomValue(_ random: inout SplitMix64) -> FieldValue {
        switch Int.random(in: 0...5, using: &random) {
        case 0: .null
        case 1: .bool(Bool.random(using: &random))
        case 2: .int(Int64.random(in: -1000...1000, using: &random))
        case 3: .string(randomText(&random))
        case 4: .timestamp(Int64.random(in: 0...1 << 42, using: &random))
        default: .reference(EntityID.random(using: &random))
        }
    }

    /// ASCII, so that flipping a byte's low bit keeps a valid string of the same length.
    private static func randomText(_ random: inout SplitMix64) -> String {
        String(
            (0..<Int.random(in: 1...12, using: &random)).map { _ in Character(UnicodeScalar(UInt8.random(in: 0x61...0x7A, using: &random)))
            })
    }

    static func randomOperation(_ replicas: [ReplicaID], _ random: inout SplitMix64) -> DialogueModel.Operation {
        func dot() -> Dot { randomDot(replicas, &random) }
        func maybeDot() -> Dot? { Bool.random(using: &random) ? randomDot(replicas, &random) : nil }
        switch Int.random(in: 0...9, using: &random) {
        case 0: return .create(kind: "insight", predecessors: Bool.random(using: &random) ? [dot()] : [])
        case 1: return .delete(observed: VersionVector([replicas[0]: UInt64.random(in: 1...50, using: &random)]))
        case 2: return .set(randomValue(&random), predecessors: [dot()])
        case 3: return .add(randomValue(&random))
        case 4: return .remove(randomValue(&random), observed: [dot(), dot()])
        case 5: return .insertText(originLeft: maybeDot(), originRight: maybeDot(), text: randomText(&random))
        case 6:
            return .deleteText([
                try! DotRange(
                    replica: replicas.randomElement(using: &random)!, firstCounter: UInt64.random(in: 1...100, using: &random),
                    length: UInt64.random(in: 1...4, using: &random))
            ])
        case 7: return .insertItem(originLeft: maybeDot(), originRight: maybeDot(), value: randomValue(&random))
        case 8: return .moveItem(element: dot(), originLeft: maybeDot(), originRight: maybeDot(), predecessors: [dot()])
        default: return .removeItem(element: dot())
        }
    }
}

/// One-byte alterations of a change: of its counter, every metadata field and every part
/// of its content. Each alteration yields a change that differs from the original.
func alterations(of change: Change) -> [(String, Change)] {
    var result: [(String, Change)] = []
    func alter(_ name: String, _ body: (inout Change) -> Void) {
        var copy = change
        body(&copy)
        if copy != change { result.append((name, copy)) }
    }
    func flip(_ dot: Dot) -> Dot { Dot(dot.replica, dot.counter ^ 1) }
    func flip(_ dot: Dot?) -> Dot? { dot.map(flip) }
    func flip(_ text: String) -> String {
        var bytes = Array(text.utf8)
        bytes[bytes.count / 2] ^= 1
        return String(decoding: bytes, as: UTF8.self)
    }
    func flip(_ value: FieldValue) -> FieldValue {
        switch value {
        case .null: .bool(false)
        case .bool(let flag): .bool(!flag)
        case .int(let number): .int(number ^ 1)
        case .string(let text): .string(flip(text))
        case .timestamp(let time): .timestamp(time ^ 1)
        case .reference(let entity):
            .reference(EntityID(UUID(byteArray: flipping(entity.uuid.bytes, at: 7))))
        }
    }
    alter("counter") { $0.id.counter ^= 1 }
    alter("counter +1") { $0.id.counter += 1 }
    alter("replica") { $0.id.replica = ReplicaID(rawValue: $0.id.replica.rawValue ^ 1)! }
    alter("wall time") { $0.timestamp.wallTime ^= 1 }
    alter("logical time") { $0.timestamp.logical ^= 1 }
    alter("entity") { $0.entity = EntityID(UUID(byteArray: flipping($0.entity.uuid.bytes, at: 3))) }
    alter("field") { $0.field = $0.field.isEmpty ? "a" : flip($0.field) }
    alter("dependency") { $0.dependencies = $0.dependencies.isEmpty ? [Dot(change.replica, 1)] : $0.dependencies.map(flip) }
    switch change.operation {
    case .create(let kind, let predecessors):
        alter("kind") { $0.operation = .create(kind: flip(kind), predecessors: predecessors) }
        alter("predecessors") { $0.operation = .create(kind: kind, predecessors: predecessors.map(flip)) }
    case .delete(let observed):
        alter("observed") { $0.operation = .delete(observed: VersionVector(observed.counters.mapValues { $0 ^ 1 })) }
    case .set(let value, let predecessors):
        alter("value") { $0.operation = .set(flip(value), predecessors: predecessors) }
        alter("predecessors") { $0.operation = .set(value, predecessors: predecessors.map(flip)) }
    case .add(let value):
        alter("value") { $0.operation = .add(flip(value)) }
    case .remove(let value, let observed):
        alter("value") { $0.operation = .remove(flip(value), observed: observed) }
        alter("observed") { $0.operation = .remove(value, observed: observed.map(flip)) }
    case .insertText(let left, let right, let text):
        alter("text") { $0.operation = .insertText(originLeft: left, originRight: right, text: flip(text)) }
        alter("left origin") {
            $0.operation = .insertText(originLeft: flip(left) ?? Dot(change.replica, 1), originRight: right, text: text)
        }
        alter("right origin") { $0.operation = .insertText(originLeft: left, originRight: flip(right), text: text) }
    case .deleteText(let ranges):
        let range = ranges[0]
        alter("range start") {
            $0.operation = .deleteText([try! DotRange(replica: range.replica, firstCounter: range.firstCounter + 1, length: range.length)])
        }
        alter("range length") {
            $0.operation = .deleteText([try! DotRange(replica: range.replica, firstCounter: range.firstCounter, length: range.length + 1)])
        }
    case .insertItem(let left, let right, let value):
        alter("value") { $0.operation = .insertItem(originLeft: left, originRight: right, value: flip(value)) }
        alter("left origin") { $0.operation = .insertItem(originLeft: flip(left), originRight: right, value: value) }
    case .moveItem(let element, let left, let right, let predecessors):
        alter("element") {
            $0.operation = .moveItem(element: flip(element), originLeft: left, originRight: right, predecessors: predecessors)
        }
        alter("right origin") {
            $0.operation = .moveItem(element: element, originLeft: left, originRight: flip(right) ?? element, predecessors: predecessors)
        }
        alter("predecessors") {
            $0.operation = .moveItem(element: element, originLeft: left, originRight: right, predecessors: predecessors.map(flip))
        }
    case .removeItem(let element):
        alter("element") { $0.operation = .removeItem(element: flip(element)) }
    case .erase(let erasure):
        alter("target") { $0.operation = .erase(Erasure(target: .field($0.entity, "altered"), approval: erasure.approval)) }
    }
    return result
}
