// curricula's libtorch engine: TorchScript networks (class ScriptNet). A module the user saved with
// torch.jit.script or torch.jit.trace is loaded with torch::jit::load and trained as the built-in
// networks are: the same cross-entropy against a target matrix and the same optimiser (optim.h) over
// the module's named_parameters, whose names are the checkpoint's. The module's own weights are the
// initial ones (unless a run's model.weights replaces some through setParameters); setFrozen keeps
// named parameters fixed. Randomness inside the module (its dropout) draws from libtorch's generator, seeded
// before every training step with a seed that TypeScript draws from the network's dropout stream,
// so runs repeat and resume exactly.
//
// Layouts: JS sends channels-last arrays (NHWC); the module receives PyTorch's layout (NCHW for
// per-sample shapes of three dimensions, the rest unchanged), float32, on the network's device.
// Submodules' outputs (PredictionDepth's probes) come back channels-last, as the built-in networks'.
//
// Probes: forward's graph is inlined once (torch::jit::Inline); each node of it knows the submodule
// it runs in (its module hierarchy), and a submodule's output is the value of the last top-level
// node inside it. A forward pass with taps runs a copy of that graph whose return adds those values.

#include "napi_util.h"
#include "optim.h"
#include "training.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace curricula {
namespace {

// libtorch's message without the C++ backtrace; TorchScript's own traceback is kept.
std::string messageOf(const std::exception& e) {
  if (auto c10 = dynamic_cast<const c10::Error*>(&e)) return c10->what_without_backtrace();
  return e.what();
}

// The submodule path of a node of an inlined graph, from its module hierarchy
// ("SELF(Net).block1(Block).conv1(Conv2d).SELF(Conv2d)" -> "block1.conv1"); "" for the module itself.
std::string modulePath(const torch::jit::Node& node) {
  const std::string h = torch::jit::utils::getNodesModuleHierarchy(node);
  std::string path;
  size_t i = 0;
  while (i < h.size()) {
    const size_t open = h.find('(', i);
    if (open == std::string::npos) break;
    const std::string name = h.substr(i, open - i);
    int depth = 0;
    size_t close = open;
    for (; close < h.size(); close++) {
      if (h[close] == '(') depth++;
      else if (h[close] == ')' && --depth == 0) break;
    }
    if (name != "SELF" && name != "UNKNOWN_INSTANCE" && !name.empty()) path += (path.empty() ? "" : ".") + name;
    i = close + 2;  // past ")."
  }
  return path;
}

bool within(const std::string& path, const std::string& module) {
  return path == module || (path.size() > module.size() && path.compare(0, module.size(), module) == 0 &&
                            path[module.size()] == '.');
}

Napi::Array shapeToJs(Napi::Env env, const at::Tensor& t) {
  auto shape = Napi::Array::New(env);
  for (int64_t d = 0; d < t.dim(); d++) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, t.size(d)));
  return shape;
}

class ScriptNet : public TrainableNet<ScriptNet> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ScriptNet",
                       {
                           InstanceMethod("describe", &ScriptNet::Describe),
                           InstanceMethod("setParameters", &ScriptNet::SetParameters),
                           InstanceMethod("getParameters", &ScriptNet::GetParameters),
                           InstanceMethod("setFrozen", &ScriptNet::SetFrozen),
                           InstanceMethod("setOptimizer", &ScriptNet::SetOptimizer),
                           InstanceMethod("setLearningRate", &ScriptNet::SetLearningRate),
                           InstanceMethod("trainStep", &ScriptNet::TrainStep),
                           InstanceMethod("forward", &ScriptNet::Forward),
                           InstanceMethod("getOptimizerState", &ScriptNet::GetOptimizerState),
                           InstanceMethod("setOptimizerState", &ScriptNet::SetOptimizerState),
                           InstanceMethod("dispose", &ScriptNet::Dispose),
                       });
  }

  // new ScriptNet(path: string, inputShape: number[] (per sample, channels-last), device: string)
  explicit ScriptNet(const Napi::CallbackInfo& info) : TrainableNet<ScriptNet>(info) {
    Napi::Env env = info.Env();
    try {
      const std::string path = info[0].As<Napi::String>().Utf8Value();
      inputShape_ = readShape(info[1]);
      device_ = parseDevice(info[2].As<Napi::String>().Utf8Value());
      module_ = torch::jit::load(path, device_);
      for (const auto& p : module_.named_parameters(true)) {
        if (p.value.scalar_type() != at::kFloat) {
          throw std::runtime_error("parameter '" + p.name + "' is " + std::string(c10::toString(p.value.scalar_type())) +
                                   ", expected float32 (call .float() on the module before saving it)");
        }
        paramNames_.push_back(p.name);
        paramTensors_.push_back(p.value);
      }
      for (const auto& b : module_.named_buffers(true)) {
        bufferNames_.push_back(b.name);
        bufferTensors_.push_back(b.value);
      }
      for (size_t i = 0; i < paramTensors_.size(); i++) params_.push_back({paramNames_[i], &paramTensors_[i]});
      for (size_t i = 0; i < bufferTensors_.size(); i++) buffers_.push_back({bufferNames_[i], &bufferTensors_[i]});
      hasEmbeddings_ = module_.find_method("embeddings").has_value();
      std::vector<std::string> declared;
      for (const auto& m : module_.named_modules())
        if (!m.name.empty()) declared.push_back(m.name);
      listModules(declared);
    } catch (const std::exception& e) {
      Napi::Error::New(env, std::string("torch engine: ") + messageOf(e)).ThrowAsJavaScriptException();
    }
  }

 private:
  torch::jit::Module module_;
  // forward's graph, inlined; and the graph functions that also return submodules' outputs, by tap list.
  std::shared_ptr<torch::jit::Graph> inlined_;
  std::map<std::string, std::unique_ptr<torch::jit::GraphFunction>> tapped_;
  std::vector<std::string> paramNames_, bufferNames_, modules_;
  std::vector<at::Tensor> paramTensors_, bufferTensors_;
  bool hasEmbeddings_ = false;

  at::Tensor inputTensor(const Napi::Float32Array& x, int64_t batch) {
    return fromChannelsLast(viewFloat32(x, withBatch(batch, inputShape_))).contiguous().to(device_);
  }

  // forward(x) as a tensor; anything else the module returns is an error that says what it was.
  at::Tensor callForward(const at::Tensor& x, const char* method) {
    torch::jit::IValue out = method[0] == 'f' ? module_.forward({x}) : module_.get_method(method)({x});
    if (!out.isTensor()) {
      throw std::runtime_error(std::string(method) + "(x) returned " + out.tagKind() + ", expected a tensor");
    }
    return out.toTensor();
  }

  // forward's graph with every call inlined: each node knows the submodule it runs in. A
  // submodule's output is the last top-level node inside it; submodules are listed in the order of
  // their outputs (forward order), those forward never runs are left out. A module whose graph
  // cannot be inlined loads all the same, without probes.
  void listModules(const std::vector<std::string>& declared) {
    try {
      inlined_ = torch::jit::toGraphFunction(module_.get_method("forward").function()).graph()->copy();
      torch::jit::Inline(*inlined_);
    } catch (const std::exception&) {
      inlined_.reset();
      return;
    }
    std::vector<std::pair<size_t, std::string>> order;
    for (const auto& name : declared) {
      torch::jit::Node* last = nullptr;
      size_t position = 0, k = 0;
      for (torch::jit::Node* n : inlined_->nodes()) {
        k++;
        if (n->outputs().size() != 1 || !n->output()->type()->isSubtypeOf(*c10::TensorType::get())) continue;
        if (within(modulePath(*n), name)) {
          last = n;
          position = k;
        }
      }
      if (last) order.push_back({position, name});
    }
    std::stable_sort(order.begin(), order.end());
    for (auto& [position, name] : order) modules_.push_back(name);
  }

  // forward(x) that returns (logits, the outputs of `taps`...): forward's inlined graph, its return
  // widened to a tuple that adds the value of the last node inside each tap's submodule.
  torch::jit::GraphFunction& tappedForward(const std::vector<std::string>& taps) {
    std::string key;
    for (const auto& t : taps) key += t + "\n";
    auto found = tapped_.find(key);
    if (found != tapped_.end()) return *found->second;
    if (!inlined_) throw std::runtime_error("forward(x)'s graph could not be inlined, so no submodule can be probed");
    auto graph = inlined_->copy();
    std::vector<torch::jit::Value*> outputs{graph->outputs()[0]};
    for (const auto& tap : taps) {
      torch::jit::Value* value = nullptr;
      for (torch::jit::Node* n : graph->nodes()) {
        if (n->outputs().size() != 1 || !n->output()->type()->isSubtypeOf(*c10::TensorType::get())) continue;
        if (within(modulePath(*n), tap)) value = n->output();
      }
      if (!value) throw std::runtime_error("forward(x) runs no operation of submodule '" + tap + "'");
      outputs.push_back(value);
    }
    torch::jit::Node* tuple = graph->createTuple(outputs);
    graph->appendNode(tuple);
    graph->eraseOutput(0);
    graph->registerOutput(tuple->output());
    auto fn = std::make_unique<torch::jit::GraphFunction>("forward_with_taps", graph, nullptr);
    auto& ref = *fn;
    tapped_[key] = std::move(fn);
    return ref;
  }

  // {parameters: names, buffers: names, embeddings: whether the module has embeddings(x), modules: names}
  Napi::Value Describe(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    auto names = [&](const std::vector<std::string>& list) {
      auto out = Napi::Array::New(env);
      for (size_t i = 0; i < list.size(); i++) out.Set(static_cast<uint32_t>(i), list[i]);
      return out;
    };
    auto out = Napi::Object::New(env);
    out.Set("parameters", names(paramNames_));
    out.Set("buffers", names(bufferNames_));
    out.Set("modules", names(modules_));
    out.Set("embeddings", Napi::Boolean::New(env, hasEmbeddings_));
    return out;
  }

  // setParameters({name: Float32Array}): parameters and buffers (integer buffers take the values converted).
  Napi::Value SetParameters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    auto obj = info[0].As<Napi::Object>();
    auto names = obj.GetPropertyNames();
    at::NoGradGuard noGrad;
    for (uint32_t i = 0; i < names.Length(); i++) {
      auto name = names.Get(i).As<Napi::String>().Utf8Value();
      at::Tensor* target = findNamed(name);
      if (!target) throw Napi::Error::New(env, "torch engine: the module has no parameter or buffer '" + name + "'");
      auto data = float32Arg(obj.Get(name), "a parameter");
      try {
        target->copy_(viewFloat32(data, target->sizes().vec()));
      } catch (const std::exception& e) {
        throw Napi::Error::New(env, "torch engine: parameter '" + name + "': " + messageOf(e));
      }
    }
    return env.Undefined();
  }

  // [{name, shape, data}]: the parameters, then the floating-point buffers (PyTorch layout).
  Napi::Value GetParameters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    auto out = Napi::Array::New(env);
    uint32_t k = 0;
    auto add = [&](const Named& n) {
      auto entry = Napi::Object::New(env);
      entry.Set("name", n.name);
      entry.Set("shape", shapeToJs(env, *n.tensor));
      entry.Set("data", toJs(env, *n.tensor));
      out.Set(k++, entry);
    };
    for (auto& n : params_) add(n);
    for (auto& n : buffers_)
      if (at::isFloatingType(n.tensor->scalar_type())) add(n);
    return out;
  }

  // setFrozen(names: string[]): these parameters of the module get no gradient, so the optimiser (and
  // its weight decay) never touches them; every other parameter trains.
  Napi::Value SetFrozen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    freezeParameters(env, info[0].As<Napi::Array>(), params_, "module");
    return env.Undefined();
  }

  // trainStep(x, batch, target: Float32Array (batch × classes), seed: number, logitsOut?:
  // Float32Array) → loss; the module in training mode, libtorch's generator seeded with `seed`
  // first. With logitsOut the step's own logits are copied into it (as float32).
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    if (!optim_.active()) throw Napi::Error::New(env, "torch engine: trainStep needs an optimizer");
    const int64_t batch = info[1].As<Napi::Number>().Int64Value();
    const uint64_t seed = static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value());
    try {
      at::Tensor x = inputTensor(float32Arg(info[0], "the input"), batch);
      auto targetArray = float32Arg(info[2], "the target");
      const int64_t classes = static_cast<int64_t>(targetArray.ElementLength()) / std::max<int64_t>(batch, 1);
      at::Tensor target = viewFloat32(targetArray, {batch, classes}).to(device_);
      module_.train(true);
      at::manual_seed(seed);
      at::Tensor logits = callForward(x, "forward");
      if (logits.dim() != 2 || logits.size(0) != batch || logits.size(1) != classes) {
        throw std::runtime_error("forward(x) returned shape " + c10::str(logits.sizes()) + ", expected [" +
                                 std::to_string(batch) + ", " + std::to_string(classes) + "]");
      }
      return Napi::Number::New(env, crossEntropyStep(info, logits, target, optim_, params_));
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string("torch engine: trainStep: ") + messageOf(e));
    }
  }

  // forward(x, batch, embeddings: boolean, taps: string[]) → {logits, shape, dtype, embeddings?,
  // embeddingShape?, taps: [{data, shape}]} in eval mode without gradients; taps are submodules.
  Napi::Value Forward(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    const int64_t batch = info[1].As<Napi::Number>().Int64Value();
    const bool embeddings = info[2].ToBoolean().Value();
    try {
      at::NoGradGuard noGrad;
      module_.eval();
      at::Tensor x = inputTensor(float32Arg(info[0], "the input"), batch);
      std::vector<std::string> taps;
      if (info.Length() > 3 && info[3].IsArray()) {
        auto tapArray = info[3].As<Napi::Array>();
        for (uint32_t i = 0; i < tapArray.Length(); i++) taps.push_back(tapArray.Get(i).As<Napi::String>().Utf8Value());
      }
      at::Tensor logits;
      std::vector<at::Tensor> tapped;
      if (taps.empty()) {
        logits = callForward(x, "forward");
      } else {
        std::vector<torch::jit::IValue> stack{module_._ivalue(), x};
        tappedForward(taps).run(stack);
        auto elements = stack.back().toTupleRef().elements();
        logits = elements[0].toTensor();
        for (size_t i = 1; i < elements.size(); i++) tapped.push_back(elements[i].toTensor());
      }
      auto result = Napi::Object::New(env);
      result.Set("logits", toJs(env, logits));
      result.Set("shape", shapeToJs(env, logits));
      result.Set("dtype", std::string(c10::toString(logits.scalar_type())));
      if (embeddings) {
        if (!hasEmbeddings_) throw std::runtime_error("the module has no method embeddings(x)");
        at::Tensor e = callForward(x, "embeddings");
        result.Set("embeddings", toJs(env, e));
        result.Set("embeddingShape", shapeToJs(env, e));
      }
      auto tapOut = Napi::Array::New(env);
      for (size_t i = 0; i < tapped.size(); i++) {
        // Channels-last, as every network's layer outputs are (NHWC for images).
        at::Tensor t = toChannelsLast(tapped[i]);
        auto entry = Napi::Object::New(env);
        entry.Set("data", toJs(env, t));
        entry.Set("shape", shapeToJs(env, t));
        tapOut.Set(static_cast<uint32_t>(i), entry);
      }
      result.Set("taps", tapOut);
      return result;
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string("torch engine: forward: ") + messageOf(e));
    }
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    disposed_ = true;
    params_.clear();
    buffers_.clear();
    paramTensors_.clear();
    bufferTensors_.clear();
    optim_.clear();
    tapped_.clear();
    inlined_.reset();
    module_ = torch::jit::Module();
    return info.Env().Undefined();
  }
};

}  // namespace

Napi::Function DefineScriptNet(Napi::Env env) { return ScriptNet::Define(env); }

}  // namespace curricula
