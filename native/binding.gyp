{
  "targets": [
    {
      "target_name": "zergling_native",
      "sources": [
        "src/zl_addon.cc",
        "src/zl_values.cc",
        "src/zl_ring.cc",
        "src/zl_submit.cc",
        "src/zl_track.cc",
        "src/zl_cqe.cc",
        "src/zl_sqe.cc",
        "src/zl_bufring.cc",
        "src/zl_slab.cc",
        "src/zl_fd.cc",
        "src/zl_guest.cc",
        "src/zl_socket.cc",
        "src/zl_wake.cc",
        "src/zl_affinity.cc"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_cc": ["-std=gnu++17", "-O2", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden", "-pthread"],
      "cflags_cc!": ["-std=gnu++14", "-std=gnu++1y"],
      "ldflags": ["-pthread"],
      "libraries": ["-l:liburing.a", "-Wl,--exclude-libs,ALL", "-Wl,--version-script=<(module_root_dir)/exports.map"],
      "conditions": [
        ["OS!='linux' or target_arch!='x64'", { "type": "none", "sources": [] }]
      ]
    }
  ]
}
