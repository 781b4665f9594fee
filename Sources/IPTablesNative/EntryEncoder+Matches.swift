import CIPTC

extension EntryEncoder {
  /// One `struct xt_entry_match` with its payload, in the revision iptables-legacy 1.8.9 picks.
  func match(_ match: IPTMatch) -> [UInt8] {
    switch match {
    case .tcp(let t):
      let bytes = Bytes.make(xt_tcp.self) { info in
        info.spts = ports(t.sourcePorts?.value)
        info.dpts = ports(t.destinationPorts?.value)
        var inverse: Int32 = 0
        if t.sourcePorts?.negated == true { inverse |= XT_TCP_INV_SRCPT }
        if t.destinationPorts?.negated == true { inverse |= XT_TCP_INV_DSTPT }
        if let flags = t.flags {
          info.flg_mask = flags.value.mask
          info.flg_cmp = flags.value.compare
          if flags.negated { inverse |= XT_TCP_INV_FLAGS }
        }
        info.invflags = UInt8(inverse)
      }
      return Bytes.record(name: "tcp", revision: 0, payload: bytes)
    case .udp(let u):
      let bytes = Bytes.make(xt_udp.self) { info in
        info.spts = ports(u.sourcePorts?.value)
        info.dpts = ports(u.destinationPorts?.value)
        var inverse: Int32 = 0
        if u.sourcePorts?.negated == true { inverse |= XT_UDP_INV_SRCPT }
        if u.destinationPorts?.negated == true { inverse |= XT_UDP_INV_DSTPT }
        info.invflags = UInt8(inverse)
      }
      return Bytes.record(name: "udp", revision: 0, payload: bytes)
    case .icmp(let icmp):
      // ipt_icmp and ip6t_icmp share one layout: type, code[2], invflags.
      let bytes = Bytes.make(ipt_icmp.self) { info in
        info.type = icmp.value.type
        info.code = (icmp.value.codes.lowerBound, icmp.value.codes.upperBound)
        info.invflags = icmp.negated ? UInt8(IPT_ICMP_INV) : 0
      }
      return Bytes.record(name: family == .ipv4 ? "icmp" : "icmp6", revision: 0, payload: bytes)
    case .multiport(let m):
      let bytes = Bytes.make(xt_multiport_v1.self) { info in
        info.flags = UInt8(m.source ? XT_MULTIPORT_SOURCE.rawValue : XT_MULTIPORT_DESTINATION.rawValue)
        var ports: [UInt16] = []
        var rangeStarts: [UInt8] = []
        for range in m.ports {
          if range.count == 1 {
            ports.append(range.lowerBound)
            rangeStarts.append(0)
          } else {
            ports += [range.lowerBound, range.upperBound]
            rangeStarts += [1, 0]
          }
        }
        info.count = UInt8(ports.count)
        Bytes.fill(&info.ports, with: ports)
        Bytes.fill(&info.pflags, with: rangeStarts)
        info.invert = m.negated ? 1 : 0
      }
      return Bytes.record(name: "multiport", revision: 1, payload: bytes)
    case .conntrack(let states):
      let bytes = Bytes.make(xt_conntrack_mtinfo3.self) { info in
        info.match_flags = UInt16(XT_CONNTRACK_STATE)
        info.invert_flags = states.negated ? UInt16(XT_CONNTRACK_STATE) : 0
        info.state_mask = UInt16(states.value)
      }
      return Bytes.record(name: "conntrack", revision: 3, payload: bytes)
    case .iprange(let source, let destination):
      let bytes = Bytes.make(xt_iprange_mtinfo.self) { info in
        var flags: UInt32 = 0
        if let source {
          Bytes.fill(&info.src_min, with: source.value.first)
          Bytes.fill(&info.src_max, with: source.value.last)
          flags |= UInt32(IPRANGE_SRC) | (source.negated ? UInt32(IPRANGE_SRC_INV) : 0)
        }
        if let destination {
          Bytes.fill(&info.dst_min, with: destination.value.first)
          Bytes.fill(&info.dst_max, with: destination.value.last)
          flags |= UInt32(IPRANGE_DST) | (destination.negated ? UInt32(IPRANGE_DST_INV) : 0)
        }
        info.flags = UInt8(flags)
      }
      return Bytes.record(name: "iprange", revision: 1, payload: bytes)
    case .mac(let mac):
      let bytes = Bytes.make(xt_mac_info.self) { info in
        Bytes.fill(&info.srcaddr, with: mac.value)
        info.invert = mac.negated ? 1 : 0
      }
      return Bytes.record(name: "mac", revision: 0, payload: bytes)
    case .mark(let mark):
      let bytes = Bytes.make(xt_mark_mtinfo1.self) { info in
        info.mark = mark.value.value
        info.mask = mark.value.mask
        info.invert = mark.negated ? 1 : 0
      }
      return Bytes.record(name: "mark", revision: 1, payload: bytes)
    case .comment(let text):
      let bytes = Bytes.make(xt_comment_info.self) { info in
        Bytes.fill(&info.comment, string: text)
      }
      return Bytes.record(name: "comment", revision: 0, payload: bytes)
    case .limit(let average, let burst):
      let bytes = Bytes.make(xt_rateinfo.self) { info in
        info.avg = average
        info.burst = burst
      }
      return Bytes.record(name: "limit", revision: 0, payload: bytes)
    case .physdev(let input, let output):
      let bytes = Bytes.make(xt_physdev_info.self) { info in
        var present: Int32 = 0
        var inverse: Int32 = 0
        if let input {
          let (name, mask) = Bytes.interface(input.value)
          Bytes.fill(&info.physindev, with: name)
          Bytes.fill(&info.in_mask, with: mask)
          present |= XT_PHYSDEV_OP_IN
          if input.negated { inverse |= XT_PHYSDEV_OP_IN }
        }
        if let output {
          let (name, mask) = Bytes.interface(output.value)
          Bytes.fill(&info.physoutdev, with: name)
          Bytes.fill(&info.out_mask, with: mask)
          present |= XT_PHYSDEV_OP_OUT
          if output.negated { inverse |= XT_PHYSDEV_OP_OUT }
        }
        info.bitmask = UInt8(present)
        info.invert = UInt8(inverse)
      }
      return Bytes.record(name: "physdev", revision: 0, payload: bytes)
    }
  }

  /// A port range as the tcp/udp matches hold it (host order); absent is every port.
  func ports(_ range: ClosedRange<UInt16>?) -> (UInt16, UInt16) {
    guard let range else { return (0, UInt16.max) }
    return (range.lowerBound, range.upperBound)
  }
}
