import Foundation
import NFTablesBackend
import NFTablesNative
import Testing
import Topology

/// libnftables inside scratch namespaces against the `nft` tool run there (`ip netns exec`): the
/// same listing byte for byte, scripts applied as one transaction, and each call acting in its own
/// namespace even when calls for different namespaces run at once. Every libnftables call here
/// runs inside a scratch namespace.
@Suite(.serialized, .enabled(if: Kernel.available, "kernel tests need root and the netfilter tools (see stderr)"))
struct LibnftablesKernelTests {
  static func listing(_ ns: ScratchNamespace) throws -> String {
    try NetworkNamespace.run(in: ns.name) { try Libnftables.listRuleset() }
  }

  static func nftList(_ ns: ScratchNamespace) throws -> String {
    try ns.check(["/usr/sbin/nft", "list", "ruleset"])
  }

  @Test func corpusRulesetListsExactlyLikeNft() throws {
    let text = try String(
      contentsOfFile: ImportRoundTripKernelTests.corpus + "/24_ongy_flatshare.nft", encoding: .utf8)
    let ns = try ScratchNamespace("lib")
    defer { ns.remove() }
    try ns.check(["/usr/sbin/nft", "-f", "-"], input: text)
    let listed = try Self.listing(ns)
    #expect(listed.contains("table ip filter"))
    #expect(listed == (try Self.nftList(ns)))
  }

  @Test(arguments: Repo.policies("Rules"))
  func compiledPolicyListsExactlyLikeNft(_ path: String) throws {
    let compiled = try NativeNFTablesTests.compiled(path)
    #expect(!compiled.isEmpty, "\(path): no firewall compiles to nft")
    for (fw, script) in compiled {
      let ns = try ScratchNamespace("lib")
      defer { ns.remove() }
      try ns.check(["/usr/sbin/nft", "-f", "-"], input: script)
      let listed = try Self.listing(ns)
      #expect(listed == (try Self.nftList(ns)), "\(path) firewall \(fw.namespace)")
    }
  }

  @Test func emptyNamespaceListsNothing() throws {
    let ns = try ScratchNamespace("lib")
    defer { ns.remove() }
    #expect(try Self.listing(ns) == "")
  }

  /// A script applied through libnftables lists like the same script loaded with `nft -f`.
  @Test(arguments: Repo.policies("Rules"))
  func appliedScriptListsLikeNftF(_ path: String) throws {
    for (fw, script) in try NativeNFTablesTests.compiled(path) {
      let mine = try ScratchNamespace("lib")
      defer { mine.remove() }
      let tool = try ScratchNamespace("nft")
      defer { tool.remove() }
      // Twice: the script deletes its own tables first, so the second run replaces them.
      try NetworkNamespace.run(in: mine.name) {
        try Libnftables.apply(script: script)
        try Libnftables.apply(script: script)
      }
      try tool.check(["/usr/sbin/nft", "-f", "-"], input: script)
      #expect(try Self.nftList(mine) == (try Self.nftList(tool)), "\(path) firewall \(fw.namespace)")
    }
  }

  /// One transaction: a script whose last command the kernel refuses changes nothing, and the
  /// error is nft's own, naming the command. A dry run of a good script changes nothing either.
  @Test func refusedScriptChangesNothingAndDryRunChangesNothing() throws {
    let ns = try ScratchNamespace("lib")
    defer { ns.remove() }
    try ns.check(["/usr/sbin/nft", "add", "table", "inet", "keep"])
    let before = try Self.nftList(ns)
    let bad = """
      table inet fresh {
      \tchain input {
      \t\ttype filter hook input priority filter; policy accept;
      \t\ttcp dport 22 accept
      \t}
      }
      delete table inet gone

      """
    let error = try NetworkNamespace.run(in: ns.name) { () -> LibnftablesError? in
      do {
        try Libnftables.apply(script: bad)
        return nil
      } catch let e as LibnftablesError {
        return e
      }
    }
    let refused = try #require(error)
    #expect(refused.operation == "apply nft script")
    // nft's own words, with the line and column in the script and the offending line.
    #expect(
      refused.message.hasPrefix("nft script:7:19-22: Error: Could not process rule: No such file or directory\n"),
      "\(refused.message)")
    #expect(refused.message.contains("\ndelete table inet gone\n"), "\(refused.message)")
    #expect(try Self.nftList(ns) == before)

    let good = "table inet fresh {\n\tchain c {\n\t\ttcp dport 22 accept\n\t}\n}\n"
    try NetworkNamespace.run(in: ns.name) { try Libnftables.apply(script: good, dryRun: true) }
    #expect(try Self.nftList(ns) == before)
    // The dry run reaches the kernel: what only the kernel refuses is refused.
    #expect(throws: LibnftablesError.self) {
      try NetworkNamespace.run(in: ns.name) { try Libnftables.apply(script: bad, dryRun: true) }
    }
  }

  /// Two namespaces whose links share an index under different names, read and written at once
  /// from several threads: every call sees its own namespace's names (libnftables caches
  /// interfaces process-wide while a command runs; the lock keeps the calls apart).
  @Test func concurrentCallsEachActInTheirOwnNamespace() throws {
    let a = try ScratchNamespace("liba")
    defer { a.remove() }
    let b = try ScratchNamespace("libb")
    defer { b.remove() }
    var indexes: [Substring] = []
    for (ns, link) in [(a, "ain"), (b, "bin")] {
      try ns.check(["/usr/sbin/ip", "link", "add", link, "type", "veth", "peer", "name", link + "p"])
      indexes.append(try ns.check(["/usr/sbin/ip", "-o", "link", "show", link]).prefix { $0 != ":" })
    }
    #expect(indexes[0] == indexes[1], "the test needs the links at the same index in both namespaces: \(indexes)")
    let scripts = [a.name: "ain", b.name: "bin"].mapValues { link in
      "table inet t\ndelete table inet t\ntable inet t {\n\tchain c {\n\t\tiif \"\(link)\" accept\n\t}\n}\n"
    }
    try NetworkNamespace.run(in: a.name) { try Libnftables.apply(script: scripts[a.name]!) }
    try NetworkNamespace.run(in: b.name) { try Libnftables.apply(script: scripts[b.name]!) }
    let expected = [a.name: try Self.nftList(a), b.name: try Self.nftList(b)]
    #expect(expected[a.name]!.contains("iif \"ain\"") && expected[b.name]!.contains("iif \"bin\""))

    final class Results: @unchecked Sendable {
      let lock = NSLock()
      var wrong: [String] = []
      func add(_ s: String) {
        lock.lock()
        wrong.append(s)
        lock.unlock()
      }
    }
    let results = Results()
    let names = [a.name, b.name]
    DispatchQueue.concurrentPerform(iterations: 40) { i in
      let name = names[i % 2]
      do {
        let listed = try NetworkNamespace.run(in: name) { () -> String in
          if i % 4 < 2 { try Libnftables.apply(script: scripts[name]!) }
          return try Libnftables.listRuleset()
        }
        if listed != expected[name]! { results.add("\(name) call \(i):\n\(listed)") }
      } catch {
        results.add("\(name) call \(i): \(error)")
      }
    }
    #expect(results.wrong.isEmpty, "\(results.wrong.prefix(3).joined(separator: "\n---\n"))")
    #expect(try Self.nftList(a) == expected[a.name]!)
    #expect(try Self.nftList(b) == expected[b.name]!)
  }
}
