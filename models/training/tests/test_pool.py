"""The phantom pool: exact int16 copies of generate_study, resumable builds, and the loader over it."""
import json
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch

from models.training import pool
from models.training.augment import EndlessSampler, MixtureSampler, PoolSlices, parse_pool, pool_keys, pool_loader
from models.training.contract import LABELS
from models.training.tests.helpers import phantom_available


@unittest.skipUnless(phantom_available(), "models.phantom is needed to build a pool")
class PoolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        cls.root = Path(cls.tmp.name) / "pool"
        cls.summary = pool.build(cls.root, seed=5, studies=2, workers=1, progress=False)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def test_shards_hold_the_generators_study_exactly(self) -> None:
        from models.phantom import generate_study

        st = generate_study(5, 1, balanced=True)
        hu = np.load(self.root / "hu-00001.npy", mmap_mode="r")
        self.assertEqual(hu.dtype, np.int16)
        np.testing.assert_array_equal(np.asarray(hu, np.float32), st.hu)
        with np.load(self.root / "meta-00001.npz") as m:
            np.testing.assert_array_equal(m["labels"], st.labels)
            np.testing.assert_array_equal(m["window"], st.window)
        with np.load(self.root / "mask-00001.npz") as m:
            np.testing.assert_array_equal(m["bits"], st.lesion_bits)
        info = json.loads((self.root / "pool.json").read_text())
        self.assertEqual((info["seed"], info["studies"], info["labels"]), (5, 2, list(LABELS)))
        self.assertEqual(info["slices"], self.summary["slices"])
        labels = np.concatenate([np.load(self.root / f"meta-0000{i}.npz")["labels"] for i in (0, 1)])
        self.assertEqual(info["positive_slices_with_another_subtype"], pool.shared_slices(labels))

    def test_shared_slices_count_each_subtype_that_shares_its_slice(self) -> None:
        # any, epidural, intraparenchymal, intraventricular, subarachnoid, subdural
        labels = np.array([[1, 0, 0, 0, 1, 0],    # subarachnoid alone
                           [1, 0, 0, 0, 1, 1],    # subarachnoid with subdural
                           [1, 1, 1, 0, 0, 1],    # three at once
                           [0, 0, 0, 0, 0, 0]], np.uint8)
        self.assertEqual(pool.shared_slices(labels), {"epidural": 1, "intraparenchymal": 1, "intraventricular": 0,
                                                      "subarachnoid": 1, "subdural": 2})

    def test_a_build_resumes_and_refuses_another_seed(self) -> None:
        (self.root / "meta-00000.npz").unlink()  # as if killed before study 0 was complete
        again = pool.build(self.root, seed=5, studies=2, workers=1, progress=False)
        self.assertEqual(again["made_studies"], 1)
        self.assertEqual(pool.complete_indices(self.root), [0, 1])
        with self.assertRaises(SystemExit):
            pool.build(self.root, seed=6, studies=2, workers=1, progress=False)
        with self.assertRaises(SystemExit):   # nor the same seed at other slice thicknesses
            pool.build(self.root, seed=5, studies=2, workers=1, progress=False, thickness=None)

    def test_a_pool_made_by_another_generator_revision_is_not_extended(self) -> None:
        from models.phantom.study import GENERATOR_REVISION

        root = Path(self.tmp.name) / "older"
        pool.build(root, seed=5, studies=1, workers=1, progress=False)
        info = json.loads((root / "pool.json").read_text())
        self.assertEqual(info["generator"], f"models.phantom v{GENERATOR_REVISION}")
        info["generator"] = "models.phantom v4"   # as the pools made before contrast lit the small vessels
        (root / "pool.json").write_text(json.dumps(info))
        with self.assertRaises(SystemExit) as refused:
            pool.build(root, seed=5, studies=2, workers=1, progress=False)
        self.assertIn("models.phantom v4", str(refused.exception))
        self.assertEqual(pool.complete_indices(root), [0])   # nothing added

    def test_a_single_subtype_pool_records_its_share_and_refuses_another(self) -> None:
        from models.phantom import generate_study

        root = Path(self.tmp.name) / "single"
        pool.build(root, seed=8, studies=1, workers=1, progress=False, single_subtype_share=1.0)
        self.assertEqual(json.loads((root / "pool.json").read_text())["single_subtype_share"], 1.0)
        self.assertNotIn("single_subtype_share", json.loads((self.root / "pool.json").read_text()))
        st = generate_study(8, 0, balanced=True, single_subtype_share=1.0)
        np.testing.assert_array_equal(np.load(root / "hu-00000.npy"), st.hu.astype(np.int16))
        with np.load(root / "meta-00000.npz") as m:
            self.assertEqual(int(m["labels"][:, 1:].max(axis=0).sum()), 1)   # it bleeds, of one subtype
        with self.assertRaises(SystemExit):   # resuming it with the generator's own mix
            pool.build(root, seed=8, studies=1, workers=1, progress=False)
        with self.assertRaises(SystemExit):
            pool.build(Path(self.tmp.name) / "bad", seed=8, studies=1, workers=1, progress=False, single_subtype_share=1.5)

    def test_a_contrast_share_pool_enhances_its_heads_and_refuses_another_share(self) -> None:
        from models.phantom import generate_study

        root = Path(self.tmp.name) / "contrast"
        pool.build(root, seed=9, studies=1, workers=1, progress=False, contrast_share=1.0)
        self.assertEqual(json.loads((root / "pool.json").read_text())["contrast_share"], 1.0)
        self.assertNotIn("contrast_share", json.loads((self.root / "pool.json").read_text()))
        st = generate_study(9, 0, balanced=True, contrast_share=1.0)
        self.assertTrue(st.meta["head"]["contrast"])
        np.testing.assert_array_equal(np.load(root / "hu-00000.npy"), st.hu.astype(np.int16))
        with self.assertRaises(SystemExit):   # resuming it with the generator's own share
            pool.build(root, seed=9, studies=2, workers=1, progress=False)
        with self.assertRaises(SystemExit):
            pool.build(Path(self.tmp.name) / "bad", seed=9, studies=1, workers=1, progress=False, contrast_share=-0.1)

    def test_a_mixed_thickness_pool_records_each_studys_spacing(self) -> None:
        from models.phantom import generate_study
        from models.phantom.study import THICKNESS_CHOICES

        root = Path(self.tmp.name) / "mixed"
        pool.build(root, seed=7, studies=3, workers=1, progress=False, thickness=None)
        self.assertIsNone(json.loads((root / "pool.json").read_text())["thickness"])
        for i in range(3):
            st = generate_study(7, i, balanced=True, slice_thickness=None)
            self.assertIn(st.meta["slice_thickness"], [t for t, _ in THICKNESS_CHOICES])
            step = st.meta["slice_thickness"] * np.cos(np.radians(st.meta["gantry_tilt"]))
            with np.load(root / f"meta-{i:05d}.npz") as m:   # slices one thickness apart along the head
                np.testing.assert_allclose(np.diff(m["z"]), step, atol=1e-3)
            np.testing.assert_array_equal(np.load(root / f"hu-{i:05d}.npy"), st.hu.astype(np.int16))

    def test_loader_yields_contract_samples_and_every_key_once_per_pass(self) -> None:
        keys = pool_keys(self.root)
        self.assertEqual(len(keys), self.summary["slices"])
        ds = PoolSlices([self.root])
        hu, win, lab = ds[(0, *keys[3])]
        self.assertEqual((tuple(hu.shape), hu.dtype, tuple(win.shape), tuple(lab.shape)), ((1, 512, 512), torch.int16, (2,), (6,)))
        it = iter(EndlessSampler(lambda: keys, seed=0))
        first_pass = [next(it) for _ in keys]
        self.assertEqual(sorted(first_pass), sorted(keys))
        batch = next(iter(pool_loader(self.root, batch_size=4, workers=0, seed=0)))
        self.assertEqual(tuple(batch[0].shape), (4, 1, 512, 512))

    def test_a_mixture_draws_each_pool_by_its_share_not_its_size(self) -> None:
        small = Path(self.tmp.name) / "small"
        pool.build(small, seed=7, studies=1, workers=1, progress=False)
        n_small = len(pool_keys(small))
        it = iter(MixtureSampler([self.root, small], [0.0, 1.0], seed=0))
        drawn = [next(it) for _ in range(3 * n_small)]
        self.assertTrue(all(k[0] == 1 for k in drawn))
        # every key of the small pool once per pass of it, although it is drawn three times over
        self.assertEqual(sorted(drawn[:n_small]), sorted((1, s, z) for s, z in pool_keys(small)))
        it = iter(MixtureSampler([self.root, small], [3.0, 1.0], seed=1))
        share = np.mean([next(it)[0] == 1 for _ in range(2000)])
        self.assertAlmostEqual(share, 0.25, delta=0.04)
        self.assertEqual(parse_pool("/data/pool-s1:0.3"), ("/data/pool-s1", 0.3))
        self.assertEqual(parse_pool("/data/pool-s1"), ("/data/pool-s1", 1.0))
        batch = next(iter(pool_loader([str(self.root), f"{small}:2"], batch_size=4, workers=0, seed=0)))
        self.assertEqual(tuple(batch[0].shape), (4, 1, 512, 512))

    def test_pool_arrays_match_the_shards(self) -> None:
        from models.training.pool import pool_arrays

        a = pool_arrays(str(self.root), studies=2, slices_per_study=None)
        idx = pool.PoolIndex.open(self.root)
        self.assertEqual(len(a["labels"]), len(idx))
        np.testing.assert_array_equal(a["labels"], idx.labels)
        self.assertEqual(set(a["study"].tolist()), {0, 1})


if __name__ == "__main__":
    unittest.main()
