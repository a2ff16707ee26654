{
  "targets": [
    {
      "target_name": "zmq_native_wip",
      "sources": ["zmq_receiver.cc"],
      "include_dirs": ["<!@(cd .. && node -p \"require('path').dirname(require.resolve('node-addon-api'))\")"],
      "libraries": ["-lzmq"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags": ["-O3", "-Wall", "-Wextra"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
