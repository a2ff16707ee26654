{
  "targets": [
    {
      "target_name": "sf_bsread_native",
      "sources": ["<!@(ls -1 native/*.c native/*.cc 2>/dev/null || true)"],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include_dir\")",
        "<!@(pkg-config --cflags-only-I hdf5 | sed 's/-I//g')"
      ],
      "libraries": ["<!@(pkg-config --libs hdf5)", "<!@(pkg-config --libs libzmq)", "-llz4"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "H5_USE_110_API"],
      "cflags": ["-O3", "-msse2", "-Wall", "-Wextra"],
      "cflags_c": ["-std=c11"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
