// curricula's libtorch engine: a thin N-API layer over ATen. It builds a network from the
// engine-neutral layer list that src/engine/torch/ sends (JSON), runs training steps (forward in
// training mode, cross-entropy against a target matrix, backward, an optimiser update written as
// torch.optim 1.13 writes it) and eval forward passes with named taps. Everything else (descriptions,
// initial weights, dropout masks, checkpoints) stays in TypeScript.
//
// Layouts: JS sends and receives channels-last arrays (NHWC); inside, image tensors are NCHW so that
// ATen's convolutions and poolings run on their native layout. Parameters are PyTorch's.

#include <cstring>
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

enum class Kind { Reshape, Flatten, Linear, Conv2d, BatchNorm2d, Relu, MaxPool2d, Dropout, Add, Gap };

struct Layer {
  Kind kind;
  std::string name;
  std::vector<int> inputs;         // indices of earlier layers; -1 is the network input
  std::vector<int64_t> outShape;   // per-sample, channels-last
  // kind-specific
  int64_t stride = 1, padding = 0;
  int64_t poolKernel[2] = {1, 1}, poolStride[2] = {1, 1};
  double p = 0, eps = 1e-5, momentum = 0.1;
  int dropoutIndex = -1;           // position among the dropout layers (masks arrive in this order)
  // parameters (linear, conv2d, batchnorm2d)
  at::Tensor weight, bias, runningMean, runningVar;
};

enum class OptimKind { None, Adam, AdamW, SGD };

struct OptimConfig {
  OptimKind kind = OptimKind::None;
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, momentum = 0;
  bool nesterov = false;
};

Kind parseKind(const std::string& s) {
  if (s == "reshape") return Kind::Reshape;
  if (s == "flatten") return Kind::Flatten;
  if (s == "linear") return Kind::Linear;
  if (s == "conv2d") return Kind::Conv2d;
  if (s == "batchnorm2d") return Kind::BatchNorm2d;
  if (s == "relu") return Kind::Relu;
  if (s == "maxpool2d") return Kind::MaxPool2d;
  if (s == "dropout") return Kind::Dropout;
  if (s == "add") return Kind::Add;
  if (s == "gap") return Kind::Gap;
  throw std::runtime_error("unknown layer kind '" + s + "'");
}

at::Device parseDevice(const std::string& s) {
  if (s == "cpu") return at::Device(at::kCPU);
  if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw std::runtime_error("device '" + s + "': this libtorch has no usable CUDA (torch::cuda::is_available() is false)");
    }
    int64_t index = s == "cuda" ? 0 : std::stoll(s.substr(5));
    int64_t count = static_cast<int64_t>(torch::cuda::device_count());
    if (index < 0 || index >= count) {
      throw std::runtime_error("device '" + s + "': libtorch sees " + std::to_string(count) + " CUDA device(s)");
    }
    return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw std::runtime_error("device '" + s + "': expected cpu, cuda or cuda:N");
}

// NHWC (as JS holds it) <-> the internal layout: 4-D tensors are NCHW inside, others unchanged.
at::Tensor fromChannelsLast(const at::Tensor& t) { return t.dim() == 4 ? t.permute({0, 3, 1, 2}) : t; }
at::Tensor toChannelsLast(const at::Tensor& t) { return t.dim() == 4 ? t.permute({0, 2, 3, 1}) : t; }

std::vector<int64_t> withBatch(int64_t batch, const std::vector<int64_t>& shape) {
  std::vector<int64_t> out{batch};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

// The argument as a Float32Array; a TypeError naming it otherwise (Napi's As<> does not check).
Napi::Float32Array float32Arg(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(v.Env(), std::string("torch engine: ") + what + " must be a Float32Array");
  }
  return v.As<Napi::Float32Array>();
}

// A float32 tensor viewing a JS typed array's memory (no copy; valid during the synchronous call).
at::Tensor viewFloat32(const Napi::Float32Array& a, const std::vector<int64_t>& shape) {
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
Napi::Float32Array toJs(Napi::Env env, const at::Tensor& t) {
  const size_t n = static_cast<size_t>(t.numel());
  auto out = Napi::Float32Array::New(env, n);
  if (n == 0) return out;
  at::from_blob(out.Data(), t.sizes(), at::TensorOptions().dtype(at::kFloat)).copy_(t.detach());
  return out;
}

std::vector<int64_t> readShape(const Napi::Value& v) {
  std::vector<int64_t> out;
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(arr.Get(i).As<Napi::Number>().Int64Value());
  return out;
}

double numberOr(const Napi::Object& o, const char* key, double fallback) {
  return o.Has(key) && o.Get(key).IsNumber() ? o.Get(key).As<Napi::Number>().DoubleValue() : fallback;
}

class Net : public Napi::ObjectWrap<Net> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Net",
                       {
                           InstanceMethod("setParameters", &Net::SetParameters),
                           InstanceMethod("getParameters", &Net::GetParameters),
                           InstanceMethod("setOptimizer", &Net::SetOptimizer),
                           InstanceMethod("setLearningRate", &Net::SetLearningRate),
                           InstanceMethod("trainStep", &Net::TrainStep),
                           InstanceMethod("forward", &Net::Forward),
                           InstanceMethod("getOptimizerState", &Net::GetOptimizerState),
                           InstanceMethod("setOptimizerState", &Net::SetOptimizerState),
                           InstanceMethod("dispose", &Net::Dispose),
                       });
  }

  // new Net(layers: object[], inputShape: number[], device: string)
  explicit Net(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Net>(info), device_(at::kCPU) {
    Napi::Env env = info.Env();
    try {
      auto layers = info[0].As<Napi::Array>();
      inputShape_ = readShape(info[1]);
      device_ = parseDevice(info[2].As<Napi::String>().Utf8Value());
      std::unordered_map<std::string, int> index;
      auto opts = at::TensorOptions().dtype(at::kFloat).device(device_);
      for (uint32_t i = 0; i < layers.Length(); i++) {
        auto o = layers.Get(i).As<Napi::Object>();
        Layer l;
        l.kind = parseKind(o.Get("kind").As<Napi::String>().Utf8Value());
        l.name = o.Get("name").As<Napi::String>().Utf8Value();
        l.outShape = readShape(o.Get("outputShape"));
        auto inputs = o.Get("inputs").As<Napi::Array>();
        for (uint32_t j = 0; j < inputs.Length(); j++) {
          auto name = inputs.Get(j).As<Napi::String>().Utf8Value();
          if (name == "input") {
            l.inputs.push_back(-1);
          } else {
            auto it = index.find(name);
            if (it == index.end()) throw std::runtime_error("layer '" + l.name + "' reads unknown layer '" + name + "'");
            l.inputs.push_back(it->second);
          }
        }
        switch (l.kind) {
          case Kind::Linear: {
            auto in = static_cast<int64_t>(numberOr(o, "inFeatures", 0));
            auto out = static_cast<int64_t>(numberOr(o, "outFeatures", 0));
            l.weight = at::zeros({out, in}, opts);
            l.bias = at::zeros({out}, opts);
            break;
          }
          case Kind::Conv2d: {
            auto in = static_cast<int64_t>(numberOr(o, "inChannels", 0));
            auto out = static_cast<int64_t>(numberOr(o, "outChannels", 0));
            auto k = static_cast<int64_t>(numberOr(o, "kernelSize", 1));
            l.stride = static_cast<int64_t>(numberOr(o, "stride", 1));
            auto pad = o.Get("padding").As<Napi::String>().Utf8Value();
            l.padding = pad == "same" ? (k - 1) / 2 : 0;
            l.weight = at::zeros({out, in, k, k}, opts);
            l.bias = at::zeros({out}, opts);
            break;
          }
          case Kind::BatchNorm2d: {
            auto c = static_cast<int64_t>(numberOr(o, "numFeatures", 0));
            l.eps = numberOr(o, "eps", 1e-5);
            l.momentum = numberOr(o, "momentum", 0.1);
            l.weight = at::ones({c}, opts);
            l.bias = at::zeros({c}, opts);
            l.runningMean = at::zeros({c}, opts);
            l.runningVar = at::ones({c}, opts);
            break;
          }
          case Kind::MaxPool2d: {
            auto k = readShape(o.Get("kernelSize"));
            auto s = readShape(o.Get("stride"));
            l.poolKernel[0] = k.at(0);
            l.poolKernel[1] = k.at(1);
            l.poolStride[0] = s.at(0);
            l.poolStride[1] = s.at(1);
            break;
          }
          case Kind::Dropout:
            l.p = numberOr(o, "p", 0);
            l.dropoutIndex = dropoutCount_++;
            break;
          default:
            break;
        }
        if (l.weight.defined()) {
          l.weight.requires_grad_(true);
          l.bias.requires_grad_(true);
        }
        index[l.name] = static_cast<int>(layers_.size());
        layers_.push_back(std::move(l));
      }
      // Pointers into layers_ are taken once it stopped growing.
      for (auto& l : layers_) {
        if (!l.weight.defined()) continue;
        params_.push_back({l.name + ".weight", &l.weight});
        params_.push_back({l.name + ".bias", &l.bias});
        if (l.kind == Kind::BatchNorm2d) {
          buffers_.push_back({l.name + ".running_mean", &l.runningMean});
          buffers_.push_back({l.name + ".running_var", &l.runningVar});
        }
      }
      if (layers_.empty()) throw std::runtime_error("a network needs at least one layer");
    } catch (const std::exception& e) {
      Napi::Error::New(env, std::string("torch engine: ") + e.what()).ThrowAsJavaScriptException();
    }
  }

 private:
  struct Named {
    std::string name;
    at::Tensor* tensor;
  };

  std::vector<Layer> layers_;
  std::vector<Named> params_;
  std::vector<Named> buffers_;
  std::vector<int64_t> inputShape_;
  int dropoutCount_ = 0;
  at::Device device_;
  OptimConfig optim_;
  int64_t step_ = 0;
  // Optimiser slots by parameter index: Adam's exp_avg/exp_avg_sq, SGD's momentum_buffer.
  std::vector<at::Tensor> expAvg_, expAvgSq_, momentumBuffer_;
  bool disposed_ = false;

  void assertAlive(Napi::Env env) const {
    if (disposed_) throw Napi::Error::New(env, "torch engine: this network was disposed");
  }

  at::Tensor* findNamed(const std::string& name) {
    for (auto& n : params_) if (n.name == name) return n.tensor;
    for (auto& n : buffers_) if (n.name == name) return n.tensor;
    return nullptr;
  }

  // Runs the layers; `keep[i]` says whether layer i's output must survive until the end.
  std::vector<at::Tensor> run(const at::Tensor& x, bool training, const std::vector<at::Tensor>& masks,
                              const std::vector<bool>& keep) {
    const int64_t batch = x.size(0);
    std::vector<at::Tensor> outs(layers_.size());
    // Last reader of each output, so activations nobody needs any more are released early.
    std::vector<int> lastUse(layers_.size(), -1);
    for (size_t i = 0; i < layers_.size(); i++)
      for (int j : layers_[i].inputs) if (j >= 0) lastUse[j] = static_cast<int>(i);
    const at::Tensor input = fromChannelsLast(x);
    for (size_t i = 0; i < layers_.size(); i++) {
      Layer& l = layers_[i];
      auto in = [&](size_t k) -> const at::Tensor& {
        int j = l.inputs.at(k);
        return j < 0 ? input : outs[j];
      };
      at::Tensor y;
      switch (l.kind) {
        case Kind::Reshape:
          y = fromChannelsLast(toChannelsLast(in(0)).reshape(withBatch(batch, l.outShape)));
          break;
        case Kind::Flatten:
          y = toChannelsLast(in(0)).reshape({batch, -1});
          break;
        case Kind::Linear:
          y = at::linear(in(0), l.weight, l.bias);
          break;
        case Kind::Conv2d:
          y = at::conv2d(in(0), l.weight, l.bias, {l.stride, l.stride}, {l.padding, l.padding});
          break;
        case Kind::BatchNorm2d:
          y = at::batch_norm(in(0), l.weight, l.bias, l.runningMean, l.runningVar, training, l.momentum, l.eps,
                             at::globalContext().userEnabledCuDNN());
          break;
        case Kind::Relu:
          y = at::relu(in(0));
          break;
        case Kind::MaxPool2d:
          y = at::max_pool2d(in(0), {l.poolKernel[0], l.poolKernel[1]}, {l.poolStride[0], l.poolStride[1]});
          break;
        case Kind::Dropout:
          y = training && l.p > 0 ? in(0) * masks.at(l.dropoutIndex) : in(0);
          break;
        case Kind::Add:
          y = in(0);
          for (size_t k = 1; k < l.inputs.size(); k++) y = y + in(k);
          break;
        case Kind::Gap:
          y = in(0).dim() == 4 ? in(0).mean({2, 3}) : in(0);
          break;
      }
      outs[i] = y;
      for (int j : l.inputs)
        if (j >= 0 && lastUse[j] == static_cast<int>(i) && !keep[j]) outs[j] = at::Tensor();
    }
    return outs;
  }

  at::Tensor inputTensor(const Napi::Float32Array& x, int64_t batch) {
    return viewFloat32(x, withBatch(batch, inputShape_)).to(device_);
  }

  Napi::Value SetParameters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    auto obj = info[0].As<Napi::Object>();
    auto names = obj.GetPropertyNames();
    at::NoGradGuard noGrad;
    for (uint32_t i = 0; i < names.Length(); i++) {
      auto name = names.Get(i).As<Napi::String>().Utf8Value();
      at::Tensor* target = findNamed(name);
      if (!target) throw Napi::Error::New(env, "torch engine: the network has no parameter '" + name + "'");
      auto data = float32Arg(obj.Get(name), "a parameter");
      auto shape = target->sizes().vec();
      try {
        target->copy_(viewFloat32(data, shape));
      } catch (const std::exception& e) {
        throw Napi::Error::New(env, "torch engine: parameter '" + name + "': " + e.what());
      }
    }
    return env.Undefined();
  }

  // [{name, shape, data}] of parameters and buffers in layer order (PyTorch layout).
  Napi::Value GetParameters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    auto out = Napi::Array::New(env);
    uint32_t k = 0;
    for (auto& l : layers_) {
      if (!l.weight.defined()) continue;
      std::vector<std::pair<std::string, at::Tensor>> items = {{".weight", l.weight}, {".bias", l.bias}};
      if (l.kind == Kind::BatchNorm2d) {
        items.push_back({".running_mean", l.runningMean});
        items.push_back({".running_var", l.runningVar});
      }
      for (auto& [suffix, t] : items) {
        auto entry = Napi::Object::New(env);
        entry.Set("name", l.name + suffix);
        auto shape = Napi::Array::New(env);
        for (int64_t d = 0; d < t.dim(); d++) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, t.size(d)));
        entry.Set("shape", shape);
        entry.Set("data", toJs(env, t));
        out.Set(k++, entry);
      }
    }
    return out;
  }

  // setOptimizer({type, lr, beta1, beta2, eps, weightDecay, momentum, nesterov})
  Napi::Value SetOptimizer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto o = info[0].As<Napi::Object>();
    auto type = o.Get("type").As<Napi::String>().Utf8Value();
    OptimConfig c;
    if (type == "Adam") c.kind = OptimKind::Adam;
    else if (type == "AdamW") c.kind = OptimKind::AdamW;
    else if (type == "SGD") c.kind = OptimKind::SGD;
    else throw Napi::Error::New(env, "torch engine: unknown optimizer '" + type + "'");
    c.lr = numberOr(o, "lr", c.lr);
    c.beta1 = numberOr(o, "beta1", c.beta1);
    c.beta2 = numberOr(o, "beta2", c.beta2);
    c.eps = numberOr(o, "eps", c.eps);
    c.weightDecay = numberOr(o, "weightDecay", 0);
    c.momentum = numberOr(o, "momentum", 0);
    c.nesterov = o.Has("nesterov") && o.Get("nesterov").ToBoolean().Value();
    optim_ = c;
    step_ = 0;
    expAvg_.assign(params_.size(), at::Tensor());
    expAvgSq_.assign(params_.size(), at::Tensor());
    momentumBuffer_.assign(params_.size(), at::Tensor());
    return env.Undefined();
  }

  Napi::Value SetLearningRate(const Napi::CallbackInfo& info) {
    optim_.lr = info[0].As<Napi::Number>().DoubleValue();
    return info.Env().Undefined();
  }

  // trainStep(x: Float32Array, batch: number, target: Float32Array, masks: Float32Array[]) → loss.
  // target[i, c] = w[y_i] / sum_j w[y_j] at the label and 0 elsewhere, so the loss is PyTorch's
  // (weighted) mean cross-entropy.
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    if (optim_.kind == OptimKind::None) throw Napi::Error::New(env, "torch engine: trainStep needs an optimizer");
    const int64_t batch = info[1].As<Napi::Number>().Int64Value();
    try {
      at::Tensor x = inputTensor(float32Arg(info[0], "the input"), batch);
      auto maskArray = info[3].As<Napi::Array>();
      std::vector<at::Tensor> masks(dropoutCount_);
      for (auto& l : layers_) {
        if (l.kind != Kind::Dropout || l.p <= 0) continue;
        auto m = float32Arg(maskArray.Get(static_cast<uint32_t>(l.dropoutIndex)), "a dropout mask");
        masks[l.dropoutIndex] = fromChannelsLast(viewFloat32(m, withBatch(batch, l.outShape)).to(device_));
      }
      const int64_t classes = layers_.back().outShape.at(0);
      at::Tensor target = viewFloat32(float32Arg(info[2], "the target"), {batch, classes}).to(device_);
      std::vector<bool> keep(layers_.size(), false);
      at::Tensor logits = run(x, true, masks, keep).back();
      at::Tensor loss = -(at::log_softmax(logits, 1) * target).sum();
      loss.backward();
      update();
      return Napi::Number::New(env, loss.item<double>());
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string("torch engine: trainStep: ") + e.what());
    }
  }

  // torch.optim.Adam / AdamW / SGD of PyTorch 1.13 (single-tensor path), step by step.
  void update() {
    at::NoGradGuard noGrad;
    step_ += 1;
    const OptimConfig& c = optim_;
    const double step = static_cast<double>(step_);
    for (size_t i = 0; i < params_.size(); i++) {
      at::Tensor& p = *params_[i].tensor;
      at::Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (c.kind == OptimKind::SGD) {
        at::Tensor d = c.weightDecay != 0 ? grad.add(p, c.weightDecay) : grad;
        if (c.momentum != 0) {
          at::Tensor& buf = momentumBuffer_[i];
          if (!buf.defined()) buf = d.clone().detach();
          else buf.mul_(c.momentum).add_(d);
          d = c.nesterov ? d.add(buf, c.momentum) : buf;
        }
        p.add_(d, -c.lr);
      } else {
        if (c.kind == OptimKind::AdamW) p.mul_(1 - c.lr * c.weightDecay);
        at::Tensor g = c.kind == OptimKind::Adam && c.weightDecay != 0 ? grad.add(p, c.weightDecay) : grad;
        at::Tensor& m = expAvg_[i];
        at::Tensor& v = expAvgSq_[i];
        if (!m.defined()) m = at::zeros_like(p);
        if (!v.defined()) v = at::zeros_like(p);
        m.mul_(c.beta1).add_(g, 1 - c.beta1);
        v.mul_(c.beta2).addcmul_(g, g, 1 - c.beta2);
        const double bc1 = 1 - std::pow(c.beta1, step);
        const double bc2 = 1 - std::pow(c.beta2, step);
        const double stepSize = c.lr / bc1;
        at::Tensor denom = (v.sqrt() / std::sqrt(bc2)).add_(c.eps);
        p.addcdiv_(m, denom, -stepSize);
      }
      p.mutable_grad() = at::Tensor();
    }
  }

  // forward(x, batch, taps: number[]) → {logits, layers: Float32Array[]} (taps channels-last).
  Napi::Value Forward(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    const int64_t batch = info[1].As<Napi::Number>().Int64Value();
    auto tapArray = info[2].As<Napi::Array>();
    try {
      c10::InferenceMode guard;
      std::vector<bool> keep(layers_.size(), false);
      std::vector<int> taps;
      for (uint32_t i = 0; i < tapArray.Length(); i++) {
        int t = tapArray.Get(i).As<Napi::Number>().Int32Value();
        if (t < 0 || t >= static_cast<int>(layers_.size())) throw std::runtime_error("tap index out of range");
        keep[t] = true;
        taps.push_back(t);
      }
      at::Tensor x = inputTensor(float32Arg(info[0], "the input"), batch);
      auto outs = run(x, false, {}, keep);
      auto result = Napi::Object::New(env);
      result.Set("logits", toJs(env, outs.back()));
      auto layers = Napi::Array::New(env);
      for (size_t i = 0; i < taps.size(); i++) layers.Set(static_cast<uint32_t>(i), toJs(env, toChannelsLast(outs[taps[i]])));
      result.Set("layers", layers);
      return result;
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string("torch engine: forward: ") + e.what());
    }
  }

  // {step, slots: {"<param>.exp_avg" | "<param>.exp_avg_sq" | "<param>.momentum_buffer": Float32Array}}
  Napi::Value GetOptimizerState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    auto out = Napi::Object::New(env);
    out.Set("step", Napi::Number::New(env, static_cast<double>(step_)));
    auto slots = Napi::Object::New(env);
    for (size_t i = 0; i < params_.size(); i++) {
      const std::string& n = params_[i].name;
      if (i < expAvg_.size() && expAvg_[i].defined()) slots.Set(n + ".exp_avg", toJs(env, expAvg_[i]));
      if (i < expAvgSq_.size() && expAvgSq_[i].defined()) slots.Set(n + ".exp_avg_sq", toJs(env, expAvgSq_[i]));
      if (i < momentumBuffer_.size() && momentumBuffer_[i].defined())
        slots.Set(n + ".momentum_buffer", toJs(env, momentumBuffer_[i]));
    }
    out.Set("slots", slots);
    return out;
  }

  Napi::Value SetOptimizerState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    if (optim_.kind == OptimKind::None) throw Napi::Error::New(env, "torch engine: no optimizer to restore");
    const int64_t step = info[0].As<Napi::Number>().Int64Value();
    auto slots = info[1].As<Napi::Object>();
    std::vector<at::Tensor> m(params_.size()), v(params_.size()), b(params_.size());
    auto names = slots.GetPropertyNames();
    for (uint32_t k = 0; k < names.Length(); k++) {
      auto key = names.Get(k).As<Napi::String>().Utf8Value();
      bool found = false;
      for (size_t i = 0; i < params_.size(); i++) {
        const std::string& n = params_[i].name;
        std::vector<at::Tensor>* target = nullptr;
        if (key == n + ".exp_avg") target = &m;
        else if (key == n + ".exp_avg_sq") target = &v;
        else if (key == n + ".momentum_buffer") target = &b;
        if (!target) continue;
        auto data = float32Arg(slots.Get(key), "an optimizer slot");
        try {
          (*target)[i] = viewFloat32(data, params_[i].tensor->sizes().vec()).to(device_, at::kFloat, false, true);
        } catch (const std::exception& e) {
          throw Napi::Error::New(env, "torch engine: optimizer slot '" + key + "': " + e.what());
        }
        found = true;
        break;
      }
      if (!found) throw Napi::Error::New(env, "torch engine: optimizer slot '" + key + "' matches no parameter");
    }
    expAvg_ = m;
    expAvgSq_ = v;
    momentumBuffer_ = b;
    step_ = step;
    return env.Undefined();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    disposed_ = true;
    layers_.clear();
    params_.clear();
    buffers_.clear();
    expAvg_.clear();
    expAvgSq_.clear();
    momentumBuffer_.clear();
    return info.Env().Undefined();
  }
};

// a·bᵀ of row-major a (rowsA × dim) and b (rowsB × dim) in float32: the matrix product the k-NN of
// PredictionDepth needs. Runs on the CPU with libtorch's threads.
Napi::Value MatMulTransposed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rowsA = info[1].As<Napi::Number>().Int64Value();
  const int64_t rowsB = info[3].As<Napi::Number>().Int64Value();
  const int64_t dim = info[4].As<Napi::Number>().Int64Value();
  try {
    c10::InferenceMode guard;
    at::Tensor a = viewFloat32(float32Arg(info[0], "a"), {rowsA, dim});
    at::Tensor b = viewFloat32(float32Arg(info[2], "b"), {rowsB, dim});
    // The product is written straight into the JS array (no copy of the rowsA × rowsB result).
    auto out = Napi::Float32Array::New(env, static_cast<size_t>(rowsA * rowsB));
    if (rowsA * rowsB > 0) {
      at::Tensor view = at::from_blob(out.Data(), {rowsA, rowsB}, at::TensorOptions().dtype(at::kFloat));
      at::mm_out(view, a, b.t());
    }
    return out;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("torch engine: matMulTransposed: ") + e.what());
  }
}

// The argument as a Float64Array; a TypeError naming it otherwise.
Napi::Float64Array float64Arg(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(v.Env(), std::string("torch engine: ") + what + " must be a Float64Array");
  }
  return v.As<Napi::Float64Array>();
}

template <typename T, typename Array>
Array copyOut(Napi::Env env, const std::vector<T>& values) {
  auto out = Array::New(env, values.size());
  if (!values.empty()) std::memcpy(out.Data(), values.data(), values.size() * sizeof(T));
  return out;
}

// A query's bound during one tile pass. A finite `keep` (limit + e when the pass starts) stays
// fixed. An infinite one (a query that has seen fewer than k references) follows what the JS
// offers would make of it: once the k smallest distances seen so far are known, keep becomes
// (k-th + e) + e — the JS limit's approximate part, computed the same way. The JS limit is the
// smaller of that and the resolved k-th distance, so this bound is never below the JS one: every
// pair JS would offer passes it, and a fresh query's first tile hands over ~k·ln(tile/k) pairs
// instead of all of them.
struct QueryBound {
  double keep;
  double e;
  bool tracking;
  std::vector<double> heap;  // max-heap of the k smallest distances seen (tracking only)

  QueryBound(double keep_, double e_) : keep(keep_), e(e_), tracking(std::isinf(keep_) && keep_ > 0) {}

  bool admit(double d, size_t k) {
    if (!(d <= keep)) return false;
    if (tracking) {
      if (heap.size() < k) {
        heap.push_back(d);
        std::push_heap(heap.begin(), heap.end());
      } else if (d < heap.front()) {
        std::pop_heap(heap.begin(), heap.end());
        heap.back() = d;
        std::push_heap(heap.begin(), heap.end());
      }
      if (heap.size() == k) keep = (heap.front() + e) + e;
    }
    return true;
  }
};

struct BoundsArg {
  Napi::Float64Array keep;
  Napi::Float64Array errors;
};

BoundsArg boundsArg(const Napi::Value& v, int64_t rows, const char* what) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), std::string("torch engine: ") + what + " must be {keep, errors}");
  auto o = v.As<Napi::Object>();
  BoundsArg out{float64Arg(o.Get("keep"), "keep"), float64Arg(o.Get("errors"), "errors")};
  if (static_cast<int64_t>(out.keep.ElementLength()) != rows || static_cast<int64_t>(out.errors.ElementLength()) != rows) {
    throw std::runtime_error(std::string(what) + ": keep and errors must hold one value per query");
  }
  return out;
}

// The k-NN's tile pass: the float32 products a·bᵀ of a (rowsA × dim) and b (rowsB × dim), and of
// them only the candidates each query can still take: distance d = (|q|² + |r|²) − 2·(q·r) in
// float64 from the float32 product, clamped at 0, kept where d ≤ the query's bound (QueryBound).
// Rows of a are queries against the references in b (`rows`: {keep, errors} per row of a); with
// `cols`, b's rows too, as queries against a's rows (the symmetric half of a probe whose queries
// are its references). The arithmetic is the JS scan's, operation for operation, so every pair the
// scan would offer is kept; the caller re-checks each with its bound as it tightens. Returns
// {rowStart, rowIndex, rowDist[, colStart, colIndex, colDist]}: candidates of row r are
// rowIndex/rowDist[rowStart[r] .. rowStart[r+1]), indices into b's rows (and a's for columns),
// ascending. Rows and columns are filtered in separate passes split into contiguous chunks over
// libtorch's threads, joined in order (the result does not depend on the thread count). The
// product never crosses into JS.
Napi::Value TileCandidates(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rowsA = info[1].As<Napi::Number>().Int64Value();
  const int64_t rowsB = info[3].As<Napi::Number>().Int64Value();
  const int64_t dim = info[4].As<Napi::Number>().Int64Value();
  try {
    auto normsA = float64Arg(info[5], "normsA");
    auto normsB = float64Arg(info[6], "normsB");
    const size_t k = static_cast<size_t>(info[7].As<Napi::Number>().Int64Value());
    if (static_cast<int64_t>(normsA.ElementLength()) != rowsA || static_cast<int64_t>(normsB.ElementLength()) != rowsB) {
      throw std::runtime_error("norms must hold one value per row");
    }
    if (k < 1) throw std::runtime_error("k must be at least 1");
    BoundsArg rowBounds = boundsArg(info[8], rowsA, "rows");
    const bool columns = info.Length() > 9 && !info[9].IsNull() && !info[9].IsUndefined();
    BoundsArg colBounds = columns ? boundsArg(info[9], rowsB, "cols") : BoundsArg{};
    at::Tensor product;
    {
      c10::InferenceMode guard;
      at::Tensor a = viewFloat32(float32Arg(info[0], "a"), {rowsA, dim});
      at::Tensor b = viewFloat32(float32Arg(info[2], "b"), {rowsB, dim});
      product = at::mm(a, b.t()).contiguous();
    }
    const float* dots = product.data_ptr<float>();
    const double* na = normsA.Data();
    const double* nb = normsB.Data();
    const double* ka = rowBounds.keep.Data();
    const double* ea = rowBounds.errors.Data();
    const int64_t threads = std::max<int64_t>(1, at::get_num_threads());

    const int64_t chunks = std::min<int64_t>(threads, rowsA);
    std::vector<std::vector<int32_t>> rowIndexParts(chunks);
    std::vector<std::vector<double>> rowDistParts(chunks);
    std::vector<int32_t> rowStart(static_cast<size_t>(rowsA) + 1, 0);
    at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; c++) {
        auto& index = rowIndexParts[c];
        auto& dist = rowDistParts[c];
        for (int64_t r = rowsA * c / chunks; r < rowsA * (c + 1) / chunks; r++) {
          const float* row = dots + r * rowsB;
          const double qa = na[r];
          QueryBound bound(ka[r], ea[r]);
          for (int64_t t = 0; t < rowsB; t++) {
            double d = (qa + nb[t]) - 2.0 * static_cast<double>(row[t]);
            if (d < 0) d = 0;
            if (bound.admit(d, k)) {
              index.push_back(static_cast<int32_t>(t));
              dist.push_back(d);
            }
          }
          rowStart[r + 1] = static_cast<int32_t>(index.size());  // within the chunk; offset below
        }
      }
    });
    std::vector<int32_t> rowIndex;
    std::vector<double> rowDist;
    for (int64_t c = 0; c < chunks; c++) {
      const int32_t offset = static_cast<int32_t>(rowIndex.size());
      for (int64_t r = rowsA * c / chunks; r < rowsA * (c + 1) / chunks; r++) rowStart[r + 1] += offset;
      rowIndex.insert(rowIndex.end(), rowIndexParts[c].begin(), rowIndexParts[c].end());
      rowDist.insert(rowDist.end(), rowDistParts[c].begin(), rowDistParts[c].end());
    }
    auto out = Napi::Object::New(env);
    out.Set("rowStart", copyOut<int32_t, Napi::Int32Array>(env, rowStart));
    out.Set("rowIndex", copyOut<int32_t, Napi::Int32Array>(env, rowIndex));
    out.Set("rowDist", copyOut<double, Napi::Float64Array>(env, rowDist));
    if (columns) {
      const double* kb = colBounds.keep.Data();
      const double* eb = colBounds.errors.Data();
      const int64_t colChunks = std::min<int64_t>(threads, rowsB);
      std::vector<std::vector<int32_t>> colIndex(static_cast<size_t>(rowsB));
      std::vector<std::vector<double>> colDist(static_cast<size_t>(rowsB));
      at::parallel_for(0, colChunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; c++) {
          const int64_t t0 = rowsB * c / colChunks;
          const int64_t t1 = rowsB * (c + 1) / colChunks;
          std::vector<QueryBound> bounds;
          bounds.reserve(static_cast<size_t>(t1 - t0));
          for (int64_t t = t0; t < t1; t++) bounds.emplace_back(kb[t], eb[t]);
          // Column t (b's row t as a query) meets a's rows in ascending order.
          for (int64_t r = 0; r < rowsA; r++) {
            const float* row = dots + r * rowsB;
            const double qa = na[r];
            for (int64_t t = t0; t < t1; t++) {
              double d = (nb[t] + qa) - 2.0 * static_cast<double>(row[t]);
              if (d < 0) d = 0;
              if (bounds[t - t0].admit(d, k)) {
                colIndex[t].push_back(static_cast<int32_t>(r));
                colDist[t].push_back(d);
              }
            }
          }
        }
      });
      std::vector<int32_t> colStart(static_cast<size_t>(rowsB) + 1, 0);
      std::vector<int32_t> flatIndex;
      std::vector<double> flatDist;
      for (int64_t t = 0; t < rowsB; t++) {
        flatIndex.insert(flatIndex.end(), colIndex[t].begin(), colIndex[t].end());
        flatDist.insert(flatDist.end(), colDist[t].begin(), colDist[t].end());
        colStart[t + 1] = static_cast<int32_t>(flatIndex.size());
      }
      out.Set("colStart", copyOut<int32_t, Napi::Int32Array>(env, colStart));
      out.Set("colIndex", copyOut<int32_t, Napi::Int32Array>(env, flatIndex));
      out.Set("colDist", copyOut<double, Napi::Float64Array>(env, flatDist));
    }
    return out;
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("torch engine: tileCandidates: ") + e.what());
  }
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::Error::New(info.Env(), "torch engine: threads must be >= 1");
  at::set_num_threads(n);
  return info.Env().Undefined();
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
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Net", Net::Define(env));
  exports.Set("matMulTransposed", Napi::Function::New(env, MatMulTransposed));
  exports.Set("tileCandidates", Napi::Function::New(env, TileCandidates));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  return exports;
}

}  // namespace

NODE_API_MODULE(curricula_torch, Init)
