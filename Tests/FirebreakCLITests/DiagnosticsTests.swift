import FirebreakCLI
import PolicyLanguage
import Testing

/// One malformed policy: its text, and the first error `check` must report (line:col: message).
struct BadPolicy: CustomTestStringConvertible, Sendable {
  var name: String
  var text: String
  var expected: String
  var extraFiles: [String: String] = [:]
  var testDescription: String { name }
}

let t = "table ip filter {\n  chain input {\n    type filter hook input priority filter; policy drop;\n"
let end = "\n  }\n}\n"

let badPolicies: [BadPolicy] = [
  BadPolicy(
    name: "unexpected character", text: t + "    ip saddr 1.2.3.4 ~ accept" + end,
    expected: "4:22: unexpected character '~'"),
  BadPolicy(
    name: "unterminated string", text: t + "    accept comment \"oops" + end, expected: "4:20: unterminated string"),
  BadPolicy(
    name: "bare bang", text: t + "    ip saddr ! 1.2.3.4 accept" + end,
    expected: "4:14: '!' must be written '!=' (e.g. ip saddr != 10.0.0.0/8)"),
  BadPolicy(name: "stray close brace", text: "}\n", expected: "1:1: unexpected '}' with no open block"),
  BadPolicy(
    name: "unclosed block", text: "table ip filter {\n  chain x {\n  }\n",
    expected: "3:1: expected '}' before end of file"),
  BadPolicy(
    name: "undefined variable", text: t + "    ip saddr $NOPE accept" + end,
    expected: "4:14: undefined variable '$NOPE'"),
  BadPolicy(
    name: "duplicate define", text: "define A = 1.2.3.4\ndefine A = 5.6.7.8\n", expected: "2:8: 'A' is already defined"),
  BadPolicy(
    name: "missing include", text: "include \"nothere.policy\"\n",
    expected: "1:9: cannot read included file 'nothere.policy'"),
  BadPolicy(
    name: "include cycle", text: "include \"b.policy\"\n",
    expected: "1:9: include cycle: 'test.policy' is already being included",
    extraFiles: ["b.policy": "include \"test.policy\"\n"]),
  BadPolicy(
    name: "unknown top-level statement", text: "accept\n",
    expected: "1:1: expected define, include, topology, firewall or table at the top level, found 'accept'"),
  BadPolicy(
    name: "duplicate table", text: "table ip filter {\n}\ntable ip filter {\n}\n",
    expected: "3:1: table ip filter is already declared for namespace 'host'"),
  BadPolicy(
    name: "duplicate chain", text: "table ip filter {\n  chain a {\n  }\n  chain a {\n  }\n}\n",
    expected: "4:3: chain 'a' is already declared in table ip filter"),
  BadPolicy(
    name: "duplicate set",
    text: "table ip filter {\n  set s {\n    type ipv4_addr\n  }\n  set s {\n    type ipv4_addr\n  }\n}\n",
    expected: "5:3: set 's' is already declared in table ip filter"),
  BadPolicy(
    name: "unknown family", text: "table ipx filter {\n}\n",
    expected: "1:7: unknown family 'ipx' (ip, ip6, inet, arp, bridge, netdev)"),
  BadPolicy(
    name: "unknown chain type", text: "table ip f {\n  chain c {\n    type mangle hook input priority 0;\n  }\n}\n",
    expected: "3:10: unknown chain type 'mangle' (filter, nat, route)"),
  BadPolicy(
    name: "unknown hook", text: "table ip f {\n  chain c {\n    type filter hook inbound priority 0;\n  }\n}\n",
    expected: "3:22: unknown hook 'inbound' (prerouting, input, forward, output, postrouting, ingress)"),
  BadPolicy(
    name: "bad priority", text: "table ip f {\n  chain c {\n    type filter hook input priority first;\n  }\n}\n",
    expected: "3:37: bad priority 'first': a number or raw, mangle, dstnat, filter, security, srcnat"),
  BadPolicy(
    name: "nat chain on forward", text: "table ip n {\n  chain c {\n    type nat hook forward priority 0;\n  }\n}\n",
    expected: "3:5: a nat chain cannot use hook forward (allowed: prerouting, input, output, postrouting)"),
  BadPolicy(
    name: "route chain on input",
    text: "table ip m {\n  chain c {\n    type route hook input priority mangle;\n  }\n}\n",
    expected: "3:5: a route chain cannot use hook input (allowed: output)"),
  BadPolicy(
    name: "nat priority too low",
    text: "table ip n {\n  chain c {\n    type nat hook prerouting priority -200;\n  }\n}\n",
    expected: "3:5: a nat chain needs a priority above -200 (conntrack runs at -200); -200 is refused by the kernel"),
  BadPolicy(
    name: "unknown chain policy",
    text: "table ip f {\n  chain c {\n    type filter hook input priority 0; policy reject;\n  }\n}\n",
    expected: "3:47: unknown chain policy 'reject' (accept or drop)"),
  BadPolicy(
    name: "policy in a regular chain", text: "table ip f {\n  chain c {\n    policy drop\n  }\n}\n",
    expected: "3:5: policy is only allowed in a base chain (one with 'type … hook … priority …')"),
  BadPolicy(
    name: "jump to unknown chain", text: t + "    jump nowhere" + end,
    expected: "4:5: jump to unknown chain 'nowhere' in table ip filter"),
  BadPolicy(
    name: "jump loop",
    text: "table ip f {\n  chain a {\n    jump b\n  }\n  chain b {\n    goto a\n  }\n}\n",
    expected: "6:5: jump loop: a -> b -> a; the kernel refuses loops"),
  BadPolicy(
    name: "jump to base chain",
    text: t + "    jump input" + end,
    expected: "4:5: cannot jump to base chain 'input'; only regular chains can be jump targets"),
  BadPolicy(
    name: "IPv6 address in ip table", text: t + "    ip saddr 2001:db8::1 accept" + end,
    expected: "4:14: IPv6 address 2001:db8::1 in 'ip saddr'; write 'ip6 saddr'"),
  BadPolicy(
    name: "ip6 match in ip table", text: t + "    ip6 saddr 2001:db8::1 accept" + end,
    expected: "4:5: 'ip6' match in an ip table, which never sees IPv6"),
  BadPolicy(
    name: "bad prefix length", text: t + "    ip saddr 10.0.0.0/33 accept" + end,
    expected: "4:14: bad prefix length '/33' in 10.0.0.0/33: IPv4 prefixes are 0 to 32"),
  BadPolicy(
    name: "host bits set", text: t + "    ip saddr 11.11.11.5/24 accept" + end,
    expected: "4:14: host bits set in 11.11.11.5/24; the network is 11.11.11.0/24"),
  BadPolicy(
    name: "not an address", text: t + "    ip daddr 300.1.1.1 accept" + end,
    expected: "4:14: '300.1.1.1' is not an IPv4 or IPv6 address"),
  BadPolicy(
    name: "bad port", text: t + "    tcp dport 70000 accept" + end,
    expected: "4:15: bad port 70000: ports are 0 to 65535"),
  BadPolicy(
    name: "empty port range", text: t + "    udp sport 2000-1000 accept" + end,
    expected: "4:15: port range 2000-1000 is empty: 2000 is above 1000"),
  BadPolicy(
    name: "interface name too long", text: t + "    iifname \"averyveryverylongname\" accept" + end,
    expected: "4:13: interface name 'averyveryverylongname' is 21 bytes; the kernel allows at most 15"),
  BadPolicy(
    name: "wildcard in the middle", text: t + "    oifname \"e*th\" accept" + end,
    expected: "4:13: '*' is only allowed at the end of an interface name ('veth*')"),
  BadPolicy(
    name: "all-wildcard interface", text: t + "    iifname \"*\" accept" + end,
    expected: "4:13: '*' alone matches every interface (and nft refuses it); remove the match"),
  BadPolicy(
    name: "unknown ct state", text: t + "    ct state establised accept" + end,
    expected: "4:14: unknown conntrack state 'establised' (known: invalid, established, related, new, untracked)"),
  BadPolicy(
    name: "unknown icmp type", text: t + "    icmp type ping accept" + end,
    expected: "4:15: unknown icmp type 'ping' (e.g. echo-reply, destination-unreachable, source-quench)"),
  BadPolicy(
    name: "unknown protocol", text: t + "    meta l4proto tcpp accept" + end,
    expected: "4:18: unknown protocol 'tcpp' (use a name like tcp, udp, icmp or a number 0-255)"),
  BadPolicy(
    name: "tcp reset without tcp", text: t + "    reject with tcp reset" + end,
    expected: "4:5: 'reject with tcp reset' needs the rule to match TCP only (add 'meta l4proto tcp' or a 'tcp' match)"),
  BadPolicy(
    name: "reject in postrouting",
    text: "table ip f {\n  chain p {\n    type filter hook postrouting priority 0;\n    reject\n  }\n}\n",
    expected:
      "4:5: reject is only allowed in filter chains on prerouting, input, forward and output; this rule is reached from a filter chain on postrouting"
  ),
  BadPolicy(
    name: "masquerade in a filter chain", text: t + "    masquerade" + end,
    expected:
      "4:5: masquerade is only allowed in nat chains on postrouting and input; this rule is reached from a filter chain on input"
  ),
  BadPolicy(
    name: "dnat in postrouting",
    text: "table ip n {\n  chain p {\n    type nat hook postrouting priority srcnat;\n    dnat to 10.0.0.1\n  }\n}\n",
    expected:
      "4:5: dnat is only allowed in nat chains on prerouting and output; this rule is reached from a nat chain on postrouting"
  ),
  BadPolicy(
    name: "nat port without protocol",
    text: "table ip n {\n  chain p {\n    type nat hook prerouting priority dstnat;\n    dnat to 10.0.0.1:80\n  }\n}\n",
    expected: "4:5: dnat to a port needs the rule to match tcp or udp (add 'meta l4proto tcp' or a port match)"),
  BadPolicy(
    name: "match after statement", text: t + "    counter ip saddr 1.2.3.4 accept" + end,
    expected: "4:13: a match cannot follow the statement 'counter': put matches first"),
  BadPolicy(
    name: "junk after verdict", text: t + "    accept drop" + end,
    expected: "4:12: unexpected 'drop' after the verdict; only comment \"…\" may follow a verdict"),
  BadPolicy(
    name: "unknown set", text: t + "    ip saddr @nope drop" + end,
    expected: "4:5: unknown set '@nope' in table ip filter"),
  BadPolicy(
    name: "set of the wrong type",
    text:
      "table ip filter {\n  set ports {\n    type inet_service\n    elements = { 22 }\n  }\n  chain c {\n    ip saddr @ports drop\n  }\n}\n",
    expected: "7:5: set '@ports' holds inet_service elements; this match needs ipv4_addr"),
  BadPolicy(
    name: "bad MAC", text: t + "    ether saddr 00:11:22:33:44 accept" + end,
    expected: "4:17: '00:11:22:33:44' is not a MAC address (write 00:11:22:33:44:55)"),
  BadPolicy(name: "empty set", text: t + "    tcp dport { } accept" + end, expected: "4:15: empty set never matches"),
  BadPolicy(
    name: "bad mark", text: t + "    meta mark 0xzz accept" + end,
    expected: "4:15: '0xzz' is not a 32-bit mark (decimal or 0x hex)"),
  BadPolicy(
    name: "unknown keyword", text: t + "    allow" + end, expected: "4:5: unknown match, statement or verdict 'allow'"),
  BadPolicy(
    name: "bad rate unit", text: t + "    limit rate 3/fortnight accept" + end,
    expected: "4:16: unknown time unit 'fortnight' (second, minute, hour, day, week)"),
  BadPolicy(
    name: "comment too long", text: t + "    accept comment \"\(String(repeating: "x", count: 120))\"" + end,
    expected: "4:5: comment is too long: with its origin 'test.policy:4: ' it takes 135 bytes; the limit is 127"),
  BadPolicy(
    name: "duplicate namespace", text: "topology {\n  namespace A\n  namespace A\n}\n",
    expected: "3:3: namespace 'A' is already declared"),
  BadPolicy(
    name: "bridge in undeclared namespace", text: "topology {\n  bridge br0 in X\n}\n",
    expected: "2:10: namespace 'X' is not declared in the topology"),
  BadPolicy(
    name: "address on undeclared interface",
    text: "topology {\n  namespace A\n  address 10.0.0.1/24 dev eth9 in A\n}\n",
    expected: "3:3: address on interface 'eth9', which namespace 'A' does not declare"),
  BadPolicy(
    name: "address on unknown device without namespace",
    text: "topology {\n  namespace A\n  address 10.0.0.1/24 dev eth9\n}\n",
    expected: "3:27: interface 'eth9' is not declared in the topology"),
  BadPolicy(
    name: "master is not a bridge",
    text: "topology {\n  namespace A\n  namespace B\n  veth a0 in A peer b0 in B master br9\n}\n",
    expected: "4:21: master 'br9' of 'b0' is not a bridge declared in namespace 'B'"),
  BadPolicy(
    name: "firewall for undeclared namespace",
    text: "topology {\n  namespace A\n}\nfirewall Z {\n  table ip f {\n  }\n}\n",
    expected: "4:10: firewall for namespace 'Z', which the topology does not declare"),
  BadPolicy(
    name: "veth name too long", text: "topology {\n  namespace A\n  veth abcdefghijklmnop in A peer b in A\n}\n",
    expected: "3:8: interface name 'abcdefghijklmnop' is 16 bytes; the kernel allows at most 15"),
  BadPolicy(
    name: "sysctl outside net", text: "topology {\n  namespace A\n  sysctl A kernel.panic = 1\n}\n",
    expected: "3:12: 'kernel.panic' is not a network sysctl (net.…); only per-namespace net.* keys can be set"),
  BadPolicy(
    name: "duplicate topology", text: "topology {\n}\ntopology {\n}\n", expected: "3:1: topology is already declared"),
  BadPolicy(
    name: "rule that does nothing", text: "table ip f {\n  chain c {\n    comment \"why\"\n  }\n}\n",
    expected:
      "3:5: this rule has no match, statement or verdict: it does nothing (add a verdict such as 'continue', or remove it)"
  ),
]

@Suite struct DiagnosticsTests {
  @Test(arguments: badPolicies)
  func checkReportsLocatedError(_ bad: BadPolicy) {
    var files = bad.extraFiles
    files["test.policy"] = bad.text
    let console = Console.capturing()
    let status = CLI(console: console, source: MemorySource(files)).run(["check", "test.policy"])
    #expect(status == 2)
    #expect(console.out.isEmpty, "check printed to stdout: \(console.out)")
    let first = console.err.split(separator: "\n").first.map(String.init) ?? ""
    let (location, message) = split(bad.expected)
    let file = bad.name == "include cycle" ? "b.policy" : "test.policy"
    #expect(first == "\(file):\(location): error: \(message)")
  }

  @Test func allDistinct() {
    #expect(Set(badPolicies.map(\.expected)).count == badPolicies.count)
    #expect(badPolicies.count >= 30)
  }

  @Test func everyErrorInAFileIsReported() {
    let text = t + "    ip saddr 10.0.0.0/33 accept\n    tcp dport 70000 accept\n    jump nowhere" + end
    let console = Console.capturing()
    let status = CLI(console: console, source: MemorySource(["test.policy": text])).run(["check", "test.policy"])
    #expect(status == 2)
    let lines = console.err.split(separator: "\n")
    #expect(lines.count == 3)
    #expect(lines.map { $0.split(separator: ":")[1] } == ["4", "5", "6"])
  }

  @Test func duplicateHasNoteAtEarlierDefinition() {
    let console = Console.capturing()
    _ = CLI(console: console, source: MemorySource(["test.policy": "table ip filter {\n}\ntable ip filter {\n}\n"]))
      .run(["check", "test.policy"])
    #expect(console.err.contains("test.policy:1:1: note: previous declaration is here"))
  }

  func split(_ expected: String) -> (String, String) {
    let parts = expected.split(separator: " ", maxSplits: 1)
    return (String(parts[0].dropLast()), String(parts[1]))
  }
}
