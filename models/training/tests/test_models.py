"""Every registered model: contract shapes, parameter counts against the papers, training moves."""
import unittest

import torch
from torchvision.ops import StochasticDepth

from models.training.contract import NUM_LABELS
from models.training.convlstm import ViewCNN
from models.training.engine import WeightedBCE, train_step
from models.training.registry import count_parameters, create_model, get_config, list_models
from models.training.tests.helpers import tiny_batch

# Parameter counts with a 6-unit head, against the papers' figures (SEEDS.md).
EXPECTED_PARAMS = {
    "convlstm": (1.5e6, 1.8e6),              # ours: computed from the table (+ LSTM 128)
    "efficientnet_b3": (10e6, 12e6),         # Tan & Le: 12 M with the 1000-way ImageNet head
    "inception_resnet_v2": (54e6, 56e6),     # Szegedy et al. / Keras: 55.9 M with 1000 classes
}


class EveryModelTest(unittest.TestCase):
    def test_registry_is_complete(self) -> None:
        self.assertEqual(set(list_models()), set(EXPECTED_PARAMS))

    def test_contract_shapes_and_parameter_counts(self) -> None:
        hu, window, _ = tiny_batch(2)
        for model_id in list_models():
            with self.subTest(model=model_id):
                torch.manual_seed(0)
                model = create_model(model_id).eval()
                cfg = get_config(model_id)
                self.assertEqual(cfg.id, model_id)
                lo, hi = EXPECTED_PARAMS[model_id]
                n = count_parameters(model)
                self.assertTrue(lo <= n <= hi, f"{model_id}: {n} parameters")
                with torch.no_grad():
                    p = model(hu, window)
                self.assertEqual(tuple(p.shape), (2, NUM_LABELS))
                self.assertTrue(bool(((p >= 0) & (p <= 1)).all()))
                with torch.no_grad():
                    torch.testing.assert_close(torch.sigmoid(model.logits(hu, window)), p)
                del model

    def test_convlstm_view_cnn_gives_800_then_128(self) -> None:
        cnn = ViewCNN().eval()
        self.assertEqual(cnn.feature_shape(), (8, 10, 10))
        self.assertEqual(cnn.flat_features, 800)
        with torch.no_grad():
            x = torch.zeros(1, 1, 512, 512)
            feats = cnn.features(x)
            self.assertEqual(tuple(feats.shape), (1, 8, 10, 10))
            shapes = []
            for unit in cnn.features:
                x = unit(x)
                shapes.append(tuple(x.shape[1:]))
        self.assertEqual(shapes, [(16, 256, 256), (16, 128, 128), (16, 64, 64), (8, 28, 28), (8, 10, 10)])
        self.assertEqual(cnn.out_features, 128)

    def test_convlstm_shares_one_cnn_across_views(self) -> None:
        model = create_model("convlstm")
        convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        self.assertEqual(len(convs), 13)  # one CNN (3+3+3+2+2 convolutions), not ten
        self.assertEqual(model.windows.num_views, 10)

    def test_few_steps_lower_the_loss(self) -> None:
        # Conv-LSTM is expensive on a CPU: batch 2, a handful of steps (the brief's budget).
        hu, window, labels = tiny_batch(2)
        for model_id, steps, lr in (("efficientnet_b3", 6, 1e-4), ("convlstm", 4, 1e-3)):
            with self.subTest(model=model_id):
                torch.manual_seed(0)
                model = create_model(model_id)
                for m in model.modules():  # deterministic for this check: no dropout, no stochastic depth
                    if isinstance(m, (torch.nn.Dropout, StochasticDepth)):
                        m.p = 0.0
                opt = torch.optim.Adam(model.parameters(), lr=lr)
                loss_fn = WeightedBCE(torch.ones(NUM_LABELS))
                losses = [train_step(model, opt, loss_fn, hu, window, labels) for _ in range(steps)]
                self.assertLess(losses[-1], losses[0], f"{model_id}: {losses}")


if __name__ == "__main__":
    unittest.main()
