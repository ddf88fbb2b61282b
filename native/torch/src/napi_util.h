// Helpers shared by the addon's sources (net.cc, script.cc, knn.cc, addon.cc): checked access to JS typed-array
// arguments, tensors viewing or copied into JS memory, and small readers of JS values.
#pragma once

#include <napi.h>

#include <ATen/ATen.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace curricula {

inline int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

// The argument as a Float32Array; a TypeError naming it otherwise (Napi's As<> does not check).
inline Napi::Float32Array float32Arg(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(v.Env(), std::string("torch engine: ") + what + " must be a Float32Array");
  }
  return v.As<Napi::Float32Array>();
}

// A float32 tensor viewing a JS typed array's memory (no copy; valid during the synchronous call).
inline at::Tensor viewFloat32(const Napi::Float32Array& a, const std::vector<int64_t>& shape) {
  if (static_cast<int64_t>(a.ElementLength()) != product(shape)) {
    throw std::runtime_error("array holds " + std::to_string(a.ElementLength()) + " values, expected " +
                             std::to_string(product(shape)));
  }
  return at::from_blob(const_cast<float*>(a.Data()), shape, at::TensorOptions().dtype(at::kFloat));
}

// Hands a tensor (any device, any float type, any strides) to JS as a Float32Array that V8 owns:
// the one copy a result needs anyway (device to host, a channels-last permutation made contiguous)
// writes straight into the JS buffer. An external buffer wrapping the tensor would save nothing and
// hide its size from V8's heap accounting: a long eval loop then piles up gigabytes of tap outputs
// the collector never knows to free (40 MB per batch of 256 on the packaged CNN).
inline Napi::Float32Array toJs(Napi::Env env, const at::Tensor& t) {
  const size_t n = static_cast<size_t>(t.numel());
  auto out = Napi::Float32Array::New(env, n);
  if (n == 0) return out;
  at::from_blob(out.Data(), t.sizes(), at::TensorOptions().dtype(at::kFloat)).copy_(t.detach());
  return out;
}

// Copies t (any device and floating dtype) into the caller's Float32Array `out`, which must hold
// exactly t.numel() values; a TypeError naming `what` otherwise.
inline void copyInto(const Napi::Value& out, const at::Tensor& t, const char* what) {
  auto a = float32Arg(out, what);
  if (static_cast<int64_t>(a.ElementLength()) != t.numel()) {
    throw Napi::TypeError::New(out.Env(), std::string("torch engine: ") + what + " must hold " +
                                              std::to_string(t.numel()) + " values, got " +
                                              std::to_string(a.ElementLength()));
  }
  if (t.numel() == 0) return;
  at::from_blob(a.Data(), t.sizes(), at::TensorOptions().dtype(at::kFloat)).copy_(t.detach());
}

inline std::vector<int64_t> readShape(const Napi::Value& v) {
  std::vector<int64_t> out;
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(arr.Get(i).As<Napi::Number>().Int64Value());
  return out;
}

inline double numberOr(const Napi::Object& o, const char* key, double fallback) {
  return o.Has(key) && o.Get(key).IsNumber() ? o.Get(key).As<Napi::Number>().DoubleValue() : fallback;
}

// The argument as a Float64Array; a TypeError naming it otherwise.
inline Napi::Float64Array float64Arg(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(v.Env(), std::string("torch engine: ") + what + " must be a Float64Array");
  }
  return v.As<Napi::Float64Array>();
}

template <typename T, typename Array>
inline Array copyOut(Napi::Env env, const std::vector<T>& values) {
  auto out = Array::New(env, values.size());
  if (!values.empty()) std::memcpy(out.Data(), values.data(), values.size() * sizeof(T));
  return out;
}

// The addon's parts, defined in net.cc, script.cc and knn.cc and exported by addon.cc.
Napi::Function DefineNet(Napi::Env env);
Napi::Function DefineScriptNet(Napi::Env env);
Napi::Value MatMulTransposed(const Napi::CallbackInfo& info);
Napi::Value TileCandidates(const Napi::CallbackInfo& info);
Napi::Value ExactDistances(const Napi::CallbackInfo& info);

}  // namespace curricula
