import CIPTC
import Foundation

/// One libiptc handle on one table: read it, rewrite it, commit it. Every failure becomes an
/// `IPTablesNativeError.kernel` naming the table or chain and the errno.
final class TableSession {
  let id: IPTTableID
  let calls: any XTablesCalls.Type
  let handle: OpaquePointer

  /// `iptc_init`: reads the table (the kernel instantiates it in this namespace if needed).
  init(_ id: IPTTableID) throws(IPTablesNativeError) {
    self.id = id
    calls = id.family.calls
    guard let handle = calls.initialize(id.name) else {
      throw TableSession.error(calls, "read table", "\(id)")
    }
    self.handle = handle
  }

  deinit { calls.free(handle) }

  static func error(_ calls: any XTablesCalls.Type, _ operation: String, _ object: String) -> IPTablesNativeError {
    let code = errno
    return .kernel(operation: operation, object: object, errno: code, message: calls.errorText(code))
  }

  func check(_ result: Int32, _ operation: String, _ object: String) throws(IPTablesNativeError) {
    if result == 0 { throw TableSession.error(calls, operation, object) }
  }

  /// The chain names in libiptc's order: builtin chains in hook order, then user chains by name.
  func chainNames() -> [String] {
    var names: [String] = []
    var next = calls.firstChain(handle)
    while let name = next {
      names.append(String(cString: name))
      next = calls.nextChain(handle)
    }
    return names
  }

  /// The whole table as a snapshot.
  func read() -> IPTSnapshot.Table {
    let chains = chainNames().map { name in
      var policyCounters = xt_counters()
      let policy =
        calls.isBuiltin(name, handle) ? calls.policy(name, &policyCounters, handle).map { String(cString: $0) } : nil
      var rules: [IPTSnapshot.Rule] = []
      var next = calls.firstRule(name, handle)
      while let entry = next {
        rules.append(rule(entry))
        next = calls.nextRule(entry, handle)
      }
      return IPTSnapshot.Chain(
        name: name, policy: policy,
        counters: IPTCounters(packets: policyCounters.pcnt, bytes: policyCounters.bcnt), rules: rules)
    }
    return IPTSnapshot.Table(id: id, chains: chains)
  }

  /// An entry as `iptc_append_entry` takes it back: counters and `comefrom` zeroed, a standard
  /// target's verdict replaced by its label.
  func rule(_ entry: UnsafeRawPointer) -> IPTSnapshot.Rule {
    let layout = calls.layout
    let size = Int(entry.loadUnaligned(fromByteOffset: layout.nextOffset, as: UInt16.self))
    let targetAt = Int(entry.loadUnaligned(fromByteOffset: layout.targetOffset, as: UInt16.self))
    var bytes = Array(UnsafeRawBufferPointer(start: entry, count: size))
    let counters = entry.loadUnaligned(fromByteOffset: layout.counters, as: xt_counters.self)
    bytes.replaceSubrange(layout.counters..<(layout.counters + 16), with: repeatElement(0, count: 16))
    bytes.replaceSubrange(layout.comefrom..<(layout.comefrom + 4), with: repeatElement(0, count: 4))
    // The kernel writes names with their NUL only; the rest of each name field is stale memory.
    var at = layout.size
    while at < targetAt {
      TableSession.clearName(&bytes, record: at)
      at += max(Int(UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8), MemoryLayout<xt_entry_match>.size)
    }
    TableSession.clearName(&bytes, record: targetAt)
    // A standard target has the empty name; its verdict is an offset only valid in this blob.
    if bytes[targetAt + 2] == 0 {
      let label = Array((calls.targetLabel(entry, handle).map { String(cString: $0) } ?? "").utf8)
      bytes.replaceSubrange((targetAt + 2)..<(targetAt + 2 + label.count), with: label)
      let verdictAt = targetAt + MemoryLayout<xt_entry_target>.size
      bytes.replaceSubrange(verdictAt..<(verdictAt + 4), with: repeatElement(0, count: 4))
    }
    return IPTSnapshot.Rule(entry: bytes, counters: IPTCounters(packets: counters.pcnt, bytes: counters.bcnt))
  }

  /// Zeroes the name field of a match or target record after its terminating NUL.
  static func clearName(_ bytes: inout [UInt8], record: Int) {
    let name = (record + 2)..<(record + 2 + Int(XT_EXTENSION_MAXNAMELEN))
    guard name.upperBound <= bytes.count, let end = bytes[name].firstIndex(of: 0) else { return }
    for i in end..<name.upperBound { bytes[i] = 0 }
  }

  /// Replaces the table's contents with `table` and commits (one `IPT_SO_SET_REPLACE`).
  ///
  /// Equivalent to `iptables-restore` of one `*table … COMMIT` block: flush every chain, delete
  /// the user chains, set the policies, create the user chains, append the rules. `where` names
  /// a rule in errors (`line 12`).
  func replace(with table: IPTSnapshot.Table, where place: (Int, Int) -> String) throws(IPTablesNativeError) {
    let existing = chainNames()
    for name in existing { try check(calls.flush(name, handle), "flush chain", "\(id) \(name)") }
    for name in existing where !calls.isBuiltin(name, handle) {
      try check(calls.deleteChain(name, handle), "delete chain", "\(id) \(name)")
    }
    for chain in table.chains {
      if let policy = chain.policy {
        var counters = xt_counters(pcnt: chain.counters.packets, bcnt: chain.counters.bytes)
        try check(calls.setPolicy(chain.name, policy, &counters, handle), "set policy of", "\(id) \(chain.name)")
      } else {
        try check(calls.createChain(chain.name, handle), "create chain", "\(id) \(chain.name)")
      }
    }
    for (c, chain) in table.chains.enumerated() {
      for (r, rule) in chain.rules.enumerated() {
        var entry = rule.entry
        // libiptc sets a new rule's counters from its entry (as `iptables-restore --counters`).
        if rule.counters != IPTCounters() {
          let at = calls.layout.counters
          withUnsafeBytes(of: xt_counters(pcnt: rule.counters.packets, bcnt: rule.counters.bytes)) {
            entry.replaceSubrange(at..<(at + 16), with: $0)
          }
        }
        let ok = entry.withUnsafeBytes { calls.append(chain.name, $0.baseAddress!, handle) }
        try check(ok, "append rule", "\(id) \(chain.name) (\(place(c, r)))")
      }
    }
    try check(calls.commit(handle), "commit table", "\(id)")
  }
}
