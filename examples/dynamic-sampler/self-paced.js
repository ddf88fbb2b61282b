// A custom dynamic sampler: self-paced learning (Kumar et al., 2010). Each pass trains on the
// samples whose last loss is at most a threshold that grows by `growth` every pass (never fewer
// than `min_fraction` of the set: then the lowest-loss ones). Put it at sampling/self-paced.js in a
// project and use it from conf/curriculum/sampling/SelfPaced.yaml (module + class) with
// curriculum=Dynamic, see docs/tutorials/dynamic-sampler.md.
import { AbstractSampler } from "curricula";

export class SelfPaced extends AbstractSampler {
  static defaults = { threshold: 0.5, growth: 1.5, min_fraction: 0.3 };

  begin(setup) {
    super.begin(setup);
    // Before a sample is trained on, its loss is unknown: the first pass is the whole set.
    this.losses = new Array(setup.size).fill(null);
    this.threshold = this.args.threshold ?? SelfPaced.defaults.threshold;
  }

  sample(n) {
    const known = this.losses.filter((l) => l !== null).length;
    let pass = [];
    if (known < n) pass = Array.from({ length: n }, (_, i) => i);
    else {
      for (let i = 0; i < n; i++) if (this.losses[i] <= this.threshold) pass.push(i);
      const least = Math.ceil((this.args.min_fraction ?? SelfPaced.defaults.min_fraction) * n);
      if (pass.length < least) {
        const byLoss = Array.from({ length: n }, (_, i) => i).sort(
          (a, b) => this.losses[a] - this.losses[b] || a - b,
        );
        pass = byLoss.slice(0, least);
      }
      this.threshold *= this.args.growth ?? SelfPaced.defaults.growth;
    }
    // Draw only from this.setup.rng: its state is saved with every checkpoint.
    return this.setup.rng.shuffle(Int32Array.from(pass));
  }

  update(positions, outputs) {
    positions.forEach((p, i) => {
      this.losses[p] = outputs.losses[i];
    });
  }

  state() {
    return { losses: this.losses, threshold: this.threshold };
  }

  load(state) {
    this.losses = state.losses;
    this.threshold = state.threshold;
  }
}
