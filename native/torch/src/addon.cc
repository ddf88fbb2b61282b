// curricula's libtorch engine, the module's entry: the networks (net.cc, script.cc), the k-NN kernels (knn.cc),
// libtorch's thread settings and what the build is (version, CUDA).

#include "napi_util.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <dlfcn.h>

namespace curricula {
namespace {

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::Error::New(info.Env(), "torch engine: threads must be >= 1");
  at::set_num_threads(n);
  return info.Env().Undefined();
}

// OpenBLAS's own thread pool (libtorch's CPU matrix products on Debian's build): its setter, looked
// up in the already loaded library (the addon is not loaded with RTLD_GLOBAL), or null.
using BlasThreadsSetter = void (*)(int);
using BlasThreadsGetter = int (*)();
void* blasSymbol(const char* name) {
  for (const char* lib : {"libopenblas.so.0", "libblas.so.3", "libopenblas.so", "libopenblasp.so.0"}) {
    void* handle = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD);
    if (!handle) continue;
    void* symbol = dlsym(handle, name);
    dlclose(handle);
    if (symbol) return symbol;
  }
  return nullptr;
}

// libtorch's inter-op pool; it can be sized once, before any inter-op work. Returns whether it took.
Napi::Value SetInteropThreads(const Napi::CallbackInfo& info) {
  const int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::Error::New(info.Env(), "torch engine: inter-op threads must be >= 1");
  try {
    at::set_num_interop_threads(n);
    return Napi::Boolean::New(info.Env(), true);
  } catch (const std::exception&) {
    return Napi::Boolean::New(info.Env(), at::get_num_interop_threads() == n);
  }
}

// OpenBLAS's threads; returns whether this libtorch's BLAS is an OpenBLAS that took the setting.
Napi::Value SetBlasThreads(const Napi::CallbackInfo& info) {
  const int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::Error::New(info.Env(), "torch engine: BLAS threads must be >= 1");
  auto setter = reinterpret_cast<BlasThreadsSetter>(blasSymbol("openblas_set_num_threads"));
  if (setter) setter(n);
  return Napi::Boolean::New(info.Env(), setter != nullptr);
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("version", TORCH_VERSION);
  out.Set("threads", Napi::Number::New(env, at::get_num_threads()));
  const bool cuda = torch::cuda::is_available();
  out.Set("cuda", cuda);
  out.Set("cudaDevices", Napi::Number::New(env, cuda ? static_cast<double>(torch::cuda::device_count()) : 0.0));
  out.Set("parallel", at::get_parallel_info());
  out.Set("interopThreads", Napi::Number::New(env, at::get_num_interop_threads()));
  auto getter = reinterpret_cast<BlasThreadsGetter>(blasSymbol("openblas_get_num_threads"));
  out.Set("blasThreads", getter ? Napi::Number::New(env, getter()) : env.Null());
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Net", DefineNet(env));
  exports.Set("ScriptNet", DefineScriptNet(env));
  exports.Set("matMulTransposed", Napi::Function::New(env, MatMulTransposed));
  exports.Set("tileCandidates", Napi::Function::New(env, TileCandidates));
  exports.Set("exactDistances", Napi::Function::New(env, ExactDistances));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("setInteropThreads", Napi::Function::New(env, SetInteropThreads));
  exports.Set("setBlasThreads", Napi::Function::New(env, SetBlasThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  return exports;
}

}  // namespace
}  // namespace curricula

// The module registration macro pastes its argument into a name, so the entry is a global function.
Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return curricula::Init(env, exports); }

NODE_API_MODULE(curricula_torch, InitAddon)
