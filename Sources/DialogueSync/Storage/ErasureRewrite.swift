import DialogueModel
import Foundation
import GRDB

/// What a replica does to its storage once an erasure has applied to a space's document
/// (a local ``Replica/forget(_:in:approval:)``, or one received through sync or a bundle):
/// the document strips what arrives after an erasure, but not what it held before, so the
/// stored log is rewritten without the erased content and the document rebuilt from it.
///
/// Runs inside the transaction that stored the erasure, with `secure_delete` on
/// (``SecureErase``): every block of the space is decoded, stripped
/// (``SpaceDocument/strippingErased(_:)``: ids, dots, origins and content hashes stay) and,
/// when something was stripped, re-encoded and updated in place; waiting changes are
/// settled (``SpaceDocument/settleWaiting()``: stripped, or dropped until they come
/// again). The caller rematerialises what the result touches (an erased entity's rows and
/// search entry go, an erased field's columns empty) from the rebuilt document.
enum ErasureRewrite {
    struct Result {
        /// The document rebuilt from the rewritten log: it holds no erased content in memory.
        var document: SpaceDocument
        /// What to materialise again: every entity a change was stripped of, and each erased entity.
        var touches: [EntityID: Materializer.Touch]
        /// Changes stripped in the log, and waiting ones stripped or dropped.
        var stripped: Int
    }

    static func apply(_ document: SpaceDocument, _ db: Database) throws -> Result {
        var document = document  // `strippingErased` resolves causal pasts as it goes
        let space = document.space
        var log: [Change] = []
        var stripped: [Change] = []
        let blocks = try Row.fetchAll(
            db, sql: "SELECT block_id, body FROM change_blocks WHERE \(ReplicaSchema.blocksOfSpace) ORDER BY block_id",
            arguments: [space.blob])
        let update = try db.cachedStatement(sql: "UPDATE change_blocks SET body = ? WHERE block_id = ?")
        for row in blocks {
            let changes = try row.storedChanges(of: "change_blocks")
            let (kept, count) = document.strippingErased(changes)
            if count > 0 {
                try update.execute(arguments: [Data(ChangeCodec.encode(kept)), row["block_id"] as DatabaseValue])
                for (before, after) in zip(changes, kept) where after.isContentErased && !before.isContentErased {
                    stripped.append(after)
                }
            }
            log.append(contentsOf: kept)
        }
        let waiting = document.pendingChanges
        let rebuilt: SpaceDocument
        do { rebuilt = try document.rebuilt(from: log) } catch {
            throw ReplicaError.storage("the log of space \(space) cannot be replayed after an erasure: \(error)", underlying: error)
        }
        // Waiting changes settled by the rebuild: stripped, or dropped until they come again.
        let settled = rebuilt.pendingChanges
        try WaitingChanges.store(settled, of: space, db)
        let kept = Set(settled)
        let waitingSettled = waiting.count { !kept.contains($0) }  // stripped or dropped
        var touches = Materializer.touches(of: stripped)
        for (_, erasure) in rebuilt.erasures {
            switch erasure.target {
            case .entity(let entity): touches[entity, default: .init()].lifecycle = true
            case .field(let entity, let field): touches[entity, default: .init()].formUnion(.init(fields: [field]))
            case .contributions: break  // what their changes touched is in `stripped`
            }
        }
        return Result(document: rebuilt, touches: touches, stripped: stripped.count + waitingSettled)
    }

    /// Whether an erasure `document` holds covers `change` (received stripped): by the
    /// model's rule when the change is held; a change still waiting for its causal past,
    /// whose place cannot be judged yet, by the erasure's target alone.
    static func covers(_ document: inout SpaceDocument, _ change: Change) -> Bool {
        if document.vector[change.replica] >= change.lastCounter { return document.erases(change) }
        return document.erasures.contains { _, erasure in
            switch erasure.target {
            case .entity(let entity): entity == change.entity
            case .field(let entity, let field): entity == change.entity && field == change.field
            case .contributions(_, let replicas): replicas.contains(change.replica)
            }
        }
    }

    /// Whether `changes` hold an erasure.
    static func holdsErasure(_ changes: [Change]) -> Bool {
        changes.contains { if case .erase = $0.operation { true } else { false } }
    }
}

/// The register writes an erasure stripped, for the materialised conflict rows: a
/// stripped write holds `null` and is of an erased entity's field, an erased field, or an
/// erased member's device (a `null` written there that no erasure stripped is a cleared
/// value with nothing to show either).
struct ErasedWrites {
    private var fields: Set<FieldRef> = []
    private var replicas: Set<ReplicaID> = []
    private var entities: Set<EntityID> = []
    let isEmpty: Bool

    init(_ document: SpaceDocument) {
        let erasures = document.erasures
        isEmpty = erasures.isEmpty
        for (_, erasure) in erasures {
            switch erasure.target {
            case .entity(let entity): entities.insert(entity)
            case .field(let entity, let field): fields.insert(FieldRef(entity, field))
            case .contributions(_, let erased): replicas.formUnion(erased)
            }
        }
    }

    func contains(_ write: LWWRegister<FieldValue>.Write, of ref: FieldRef) -> Bool {
        guard !isEmpty, write.value == .null else { return false }
        return entities.contains(ref.entity) || fields.contains(ref) || replicas.contains(write.dot.replica)
    }
}
