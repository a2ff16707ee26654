// Placeholder: replaced by the libhdf5 bindings.
#include <napi.h>
void InitH5(Napi::Env, Napi::Object) {}
