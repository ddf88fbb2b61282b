// Adaptive average pooling of a layer output straight into a JS array: what src/engine/pooling.ts
// `applyPooling` computes on the channels-last output, bit for bit, without handing the whole
// activation to JS first (PredictionDepth's probes need only the pooled values).
//
// Bit-identical to the JS: per sample, output cell (ox, oy) and channel c, the float64 sum runs over
// i = x0 … x1 − 1 (outer), j = y0 … y1 − 1 (inner) of the float32 values, x0 = floor(ox·X/outX),
// x1 = ceil((ox+1)·X/outX) (y likewise), and sum / area is rounded once to float32. A 1-D plan is the
// 2-D one over (length, 1, 1). The values are read through the tensor's strides, so an NCHW
// activation is read in place (its channels-last view) and the output is written channels-last.

#pragma once

#include "napi_util.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace curricula {

struct PoolPlan {
  int64_t x = 1, y = 1, channels = 1, outX = 1, outY = 1;
  int64_t size() const { return outX * outY * channels; }
};

// A plan as JS sends it ({kind: "pool1d", length, outLength} or {kind: "pool2d", x, y, channels,
// outX, outY}); false for null, undefined or an identity plan (nothing to pool).
inline bool readPoolPlan(const Napi::Value& v, PoolPlan& plan) {
  if (v.IsNull() || v.IsUndefined()) return false;
  auto o = v.As<Napi::Object>();
  const std::string kind = o.Get("kind").As<Napi::String>().Utf8Value();
  auto whole = [&](const char* key) {
    double d = numberOr(o, key, 0);
    if (!(d >= 1) || d != static_cast<double>(static_cast<int64_t>(d)))
      throw std::runtime_error("pool plan: " + kind + "." + key + " must be a positive integer");
    return static_cast<int64_t>(d);
  };
  if (kind == "identity") return false;
  if (kind == "pool1d") {
    plan.x = whole("length");
    plan.outX = whole("outLength");
    return true;
  }
  if (kind == "pool2d") {
    plan.x = whole("x");
    plan.y = whole("y");
    plan.channels = whole("channels");
    plan.outX = whole("outX");
    plan.outY = whole("outY");
    return true;
  }
  throw std::runtime_error("pool plan: unknown kind '" + kind + "'");
}

// Pools `channelsLast` ([batch, X] for a 1-D plan, [batch, X, Y] or [batch, X, Y, C] for a 2-D one;
// any device, floating dtype and strides) into a new Float32Array of batch × plan.size() values.
inline Napi::Float32Array poolToJs(Napi::Env env, const at::Tensor& channelsLast, const PoolPlan& plan) {
  at::Tensor t = channelsLast.detach().to(at::kCPU, at::kFloat);
  if (t.dim() < 2 || t.dim() > 4) throw std::runtime_error("pool plan: cannot pool an output of shape " + c10::str(t.sizes()));
  std::vector<int64_t> sizes = t.sizes().vec(), strides = t.strides().vec();
  while (sizes.size() < 4) {
    sizes.push_back(1);
    strides.push_back(0);
  }
  if (sizes[1] != plan.x || sizes[2] != plan.y || sizes[3] != plan.channels) {
    throw std::runtime_error("pool plan for [" + std::to_string(plan.x) + ", " + std::to_string(plan.y) + ", " +
                             std::to_string(plan.channels) + "] per sample, the output is " + c10::str(t.sizes()));
  }
  const int64_t batch = sizes[0];
  const int64_t sb = strides[0], sx = strides[1], sy = strides[2], sc = strides[3];
  const int64_t X = plan.x, Y = plan.y, C = plan.channels, outX = plan.outX, outY = plan.outY;
  auto out = Napi::Float32Array::New(env, static_cast<size_t>(batch * plan.size()));
  float* dst = out.Data();
  const float* src = t.data_ptr<float>();
  const int64_t perSample = X * Y * C;
  at::parallel_for(0, batch, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, perSample)), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; b++) {
      const float* sample = src + b * sb;
      float* o = dst + b * plan.size();
      // Channel outermost: in an NCHW activation each channel's plane is contiguous.
      for (int64_t c = 0; c < C; c++) {
        for (int64_t ox = 0; ox < outX; ox++) {
          const int64_t x0 = (ox * X) / outX, x1 = ((ox + 1) * X + outX - 1) / outX;
          for (int64_t oy = 0; oy < outY; oy++) {
            const int64_t y0 = (oy * Y) / outY, y1 = ((oy + 1) * Y + outY - 1) / outY;
            double sum = 0;
            for (int64_t i = x0; i < x1; i++) {
              const float* row = sample + i * sx + c * sc;
              for (int64_t j = y0; j < y1; j++) sum += static_cast<double>(row[j * sy]);
            }
            const double area = static_cast<double>((x1 - x0) * (y1 - y0));
            o[(ox * outY + oy) * C + c] = static_cast<float>(sum / area);
          }
        }
      }
    }
  });
  return out;
}

}  // namespace curricula
