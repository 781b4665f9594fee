import Foundation
import Testing

/// Policies with nft parts kept as text (`nft "fib daddr type local"`, `nft statement "…"`),
/// which only nft's parser can build: `apply` sends them through libnftables as one transaction,
/// the kernel then lists what `nft -f` of the compiled script gives, and `rollback` restores every
/// generation exactly. Run as the real `firebreak` binary against scratch namespaces, with `nft`
/// as the oracle.
@Suite(.serialized) struct NFTTextDeploymentKernelTests {
  typealias Site = DeploymentKernelTests.Site

  /// `fib` matches and an `nftrace` statement the model keeps as text, and an `iif` (an index nft
  /// resolves in the namespace), in a table of its own name (so applying it after
  /// Rules/server.policy also drops that policy's `inet filter`).
  static let policy = """
    table inet edge {
      chain input {
        type filter hook input priority filter; policy accept;
        iif "lo" accept
        nft "fib daddr type local" tcp dport 22 accept
        nft statement "meta nftrace set 1"
        nft "fib saddr . iif oif missing" drop
      }
    }

    """

  static func write(_ text: String) throws -> String {
    let path = NSTemporaryDirectory() + "fbt-nfttext-\(UInt32.random(in: 0...UInt32.max)).policy"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func applyListsLikeNftFAndRollbackRestoresEveryGeneration() throws {
    guard DeploymentKernelTests.ready else { return }
    let site = try Site()
    defer { site.remove() }
    let oracle = try ScratchNamespace("nft")
    defer { oracle.remove() }
    let path = try Self.write(Self.policy)
    defer { try? FileManager.default.removeItem(atPath: path) }
    try site.ns.check(
      ["/usr/sbin/nft", "-f", "-"], input: "table inet foreign {\n  chain c {\n    tcp dport 9 drop\n  }\n}\n")
    let before = try site.listing()
    #expect(try site.firebreak("apply", ["Rules/server.policy"]).status == 0)
    let first = try site.listing()

    let applied = try site.firebreak("apply", [path])
    #expect(applied.status == 0, "\(applied.stderr)")
    let second = try site.listing()
    let compiled = try run([DeploymentKernelTests.binary, "compile", "--backend", "nft", path])
    #expect(compiled.status == 0, "\(compiled.stderr)")
    try oracle.check(["/usr/sbin/nft", "-f", "-"], input: compiled.stdout)
    let table = ["/usr/sbin/nft", "list", "table", "inet", "edge"]
    #expect(try site.ns.check(table) == (try oracle.check(table)))
    #expect(second.contains("fib daddr type local tcp dport 22 accept"), "\(second)")
    #expect(!second.contains("table inet filter"), "the previous generation's table is dropped")
    #expect(second.contains("table inet foreign"))
    let status = try site.firebreak("status")
    #expect(status.status == 0 && status.stdout.contains("drift: none"), "\(status.stdout)")

    #expect(try site.firebreak("rollback").status == 0)
    #expect(try site.listing() == first)
    #expect(try site.firebreak("rollback", ["--to", "2"]).status == 0)
    #expect(try site.listing() == second)
    #expect(try site.firebreak("status").stdout.contains("drift: none"))
    #expect(try site.firebreak("rollback", ["--to", "0"]).status == 0)
    #expect(try site.listing() == before)
  }

  /// An nft part nft cannot parse, and one the kernel refuses (a ct helper object that does not
  /// exist): reported at the part's policy line and column, exit 2, nothing changed, no
  /// generation recorded.
  @Test func refusedNFTPartIsReportedAtItsLineAndChangesNothing() throws {
    guard DeploymentKernelTests.ready else { return }
    let site = try Site()
    defer { site.remove() }
    #expect(try site.firebreak("apply", ["Rules/server.policy"]).status == 0)
    let before = try site.listing()
    let cases = [
      (
        Self.policy.replacingOccurrences(of: "fib daddr type local", with: "fib daddr tpe local"),
        ":5:5: error: nft refuses this rule: syntax error"
      ),
      (
        Self.policy.replacingOccurrences(of: "meta nftrace set 1", with: #"ct helper set \"ftp\""#),
        ":6:5: error: nft refuses this rule: Could not process rule: No such file or directory"
      ),
    ]
    for (text, expected) in cases {
      let path = try Self.write(text)
      defer { try? FileManager.default.removeItem(atPath: path) }
      let r = try site.firebreak("apply", [path])
      #expect(r.status == 2)
      #expect(r.stderr.contains(path + expected), "\(r.stderr)")
      #expect(try site.listing() == before)
    }
    let history = try site.firebreak("history").stdout
    #expect(history.contains("* 1 ") && !history.contains(" 2 "), "\(history)")
  }
}
