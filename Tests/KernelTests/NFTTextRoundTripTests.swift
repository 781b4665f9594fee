import Foundation
import NFTablesBackend
import NetfilterModel
import RulesetImport
import Testing

/// The nft text import through the kernel, as `NFTJSONRoundTripTests` does for JSON: a ruleset
/// loaded with `nft -f` in one scratch namespace, its `nft list ruleset` imported with
/// `NFTTextImporter` and compiled again (`NFTScript().compile`) into a second one; both listings
/// must agree (comments aside: compiled rules carry their origin).
@Suite(.serialized, .enabled(if: Kernel.available, "kernel tests need root and the netfilter tools (see stderr)"))
struct NFTTextRoundTripTests {
  /// Imports the ruleset listed in `original` (also with `-a` handles: the same model), loads it
  /// compiled into a fresh namespace and returns both listings without comments. With
  /// `printsListing`, the imported model must also print exactly the kernel's listing.
  static func roundTrip(_ original: ScratchNamespace, file: String, printsListing: Bool = true) throws -> (
    imported: ImportedRuleset, expected: String, listed: String
  ) {
    let listing = try original.check(["/usr/sbin/nft", "list", "ruleset"])
    let imported = NFTTextImporter(files: .memory([:])).importRuleset(listing, file: file)
    let withHandles = try original.check(["/usr/sbin/nft", "-a", "list", "ruleset"])
    let importedWithHandles = NFTTextImporter(files: .memory([:])).importRuleset(withHandles, file: file)
    #expect(importedWithHandles.ruleset == imported.ruleset, "\(file): the -a listing imports differently")
    #expect(importedWithHandles.diagnostics.count == imported.diagnostics.count)
    // With the comments as imported (no origin added), the model prints the kernel's listing.
    if printsListing {
      #expect(
        Listing.nft(NFTScript().listing(imported.ruleset, comments: .userOnly)) == Listing.nft(listing),
        "\(file): the imported model does not print the kernel's listing")
    }
    let copy = try ScratchNamespace("txt")
    defer { copy.remove() }
    try copy.check(["/usr/sbin/nft", "-f", "-"], input: try NFTScript().compile(imported.ruleset))
    let listed = try copy.check(["/usr/sbin/nft", "list", "ruleset"])
    return (
      imported, NFTJSONRoundTripTests.withoutComments(listing), NFTJSONRoundTripTests.withoutComments(listed)
    )
  }

  @Test(arguments: Repo.allPolicies)
  func importedListingListsBackLikeTheOriginal(_ path: String) throws {
    for fw in try RoundTripKernelTests.firewalls(path) {
      guard let script = try? NFTScript().compile(fw.ruleset, source: path) else { continue }
      let original = try ScratchNamespace("txt")
      defer { original.remove() }
      try original.check(["/usr/sbin/nft", "-f", "-"], input: script)
      let result = try Self.roundTrip(original, file: "\(fw.namespace).nft")
      #expect(result.imported.diagnostics.isEmpty, "\(path) firewall \(fw.namespace): \(result.imported.diagnostics)")
      #expect(!fw.ruleset.tables.isEmpty && result.listed.contains("table "), "\(path): nothing was compared")
      #expect(result.listed == result.expected, "\(path) firewall \(fw.namespace)")
    }
  }

  /// The corpus's nft rulesets: the flatshare loads and lists back; OpenWrt's fw4 declares `ct
  /// helper rtsp`, which this kernel lacks, so `nft -f` refuses it and it is import-only.
  @Test(arguments: NFTJSONRoundTripTests.corpus)
  func corpusRulesetsListBack(_ name: String) throws {
    let text = try String(contentsOfFile: Repo.root + "/Tests/Corpus/" + name, encoding: .utf8)
    let original = try ScratchNamespace("txt")
    defer { original.remove() }
    let loaded = try original.exec(["/usr/sbin/nft", "-f", "-"], input: text)
    if NFTJSONRoundTripTests.refusedByTheKernel.contains(name) {
      #expect(loaded.status != 0, "the kernel now accepts \(name)")
      #expect(loaded.stderr.contains("rtsp"), "\(loaded.stderr)")
      return
    }
    #expect(loaded.status == 0, "nft -f refused \(name): \(loaded.stderr)")
    let result = try Self.roundTrip(original, file: name)
    #expect(result.imported.diagnostics.isEmpty, "\(result.imported.diagnostics)")
    #expect(result.listed == result.expected)
  }

  /// What the model keeps as written, as the kernel lists it, is text nft loads back: each rule
  /// keeps its opaque part with a warning, and the copy lists like the original.
  @Test func opaquePartsAsTheKernelListsThemLoadBack() throws {
    let script = """
      table inet t {
        set s {
          type ipv4_addr
          flags dynamic
        }

        chain pre {
          type filter hook prerouting priority raw; policy accept;
          udp dport 53 notrack
        }

        chain c {
          type filter hook input priority 0; policy accept;
          iif "lo" accept
          meta nfproto ipv4 udp dport 68 accept
          fib daddr . iif type local tcp dport 22 accept
          ct status dnat accept
          ct mark 0x1 ct mark set 0x2 accept
          quota over 25 mbytes drop
          icmpv6 type . icmpv6 code { 130 . 0, 131 . 0 } accept
          meta iiftype loopback accept
          log group 2 accept
          meta mark set ct mark
          limit rate 10 mbytes/second burst 10 kbytes accept
          tcp dport 23 add @s { ip saddr limit rate over 5/minute } drop
          tcp flags & (fin | syn | rst | ack) == syn counter
          ct state established,related accept
          tcp dport 25 reject with tcp reset
          ip saddr 10.0.0.0/8 reject with icmpx admin-prohibited
        }

        chain mss {
          type filter hook forward priority mangle; policy accept;
          oifname "eth*" tcp flags syn / syn,rst tcp option maxseg size set rt mtu
          ip dscp set cs1
        }

        chain out {
          type nat hook postrouting priority srcnat; policy accept;
          meta nfproto ipv4 oifname "eth0" masquerade random
          meta l4proto tcp ip saddr 10.0.0.0/8 snat ip to 1.2.3.4-1.2.3.9:1000-2000
        }
      }

      """
    let original = try ScratchNamespace("txt")
    defer { original.remove() }
    try original.check(["/usr/sbin/nft", "-f", "-"], input: script)
    // The model holds no set flags or size (`flags dynamic`, `size 65535`): nft gives the copy's
    // set the same ones again for the `add @s` statement, but the model cannot print them.
    let result = try Self.roundTrip(original, file: "live.nft", printsListing: false)
    #expect(result.imported.errors.isEmpty)
    let modules = result.imported.warnings.compactMap { w -> String? in
      guard let end = w.message.range(of: " is not modelled") else { return nil }
      return String(w.message[..<end.lowerBound])
    }
    #expect(
      modules == [
        "notrack", "fib", "ct status", "quota", "icmpv6 type", "meta iiftype", "log", "add @s", "tcp option",
        "ip dscp", "masquerade",
      ], "\(result.imported.warnings)")
    #expect(result.listed == result.expected)
  }
}
