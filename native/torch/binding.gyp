{
  "targets": [
    {
      "target_name": "curricula_torch",
      "sources": ["src/addon.cc", "src/net.cc", "src/script.cc", "src/knn.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node find-libtorch.mjs --gyp include_dirs)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "_GLIBCXX_USE_CXX11_ABI=<!(node find-libtorch.mjs --gyp abi)"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O2", "-ffp-contract=off", "-fexceptions", "-frtti", "-Wno-unused-parameter"],
      "libraries": ["<!@(node find-libtorch.mjs --gyp libraries)"],
      "ldflags": ["<!@(node find-libtorch.mjs --gyp ldflags)"]
    }
  ]
}
