// sunpinyin_driver: sunpinyin 3 (quanpin, classic view) behind PROTOCOL.md.
//
// sunpinyin keeps its user dictionary and history cache in a user-data directory (by default
// ~/.sunpinyin); we point it at a private temporary one, so nothing of the real user's is
// read or trained.
#include "driver_common.h"

#include <sunpinyin.h>

#include <string>

namespace {

constexpr int kLearnDepth = 100;  // candidates searched per learn step: a patient user pages

// UCS-4 (sunpinyin's TWCHAR) to UTF-8, done here so the result never depends on the locale.
std::string toUtf8(const TWCHAR *s) {
    std::string out;
    for (; s && *s; s++) {
        unsigned c = *s;
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else if (c < 0x800) {
            out += static_cast<char>(0xC0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out += static_cast<char>(0xE0 | (c >> 12));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (c & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (c >> 18));
            out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (c & 0x3F));
        }
    }
    return out;
}

// The view reports a commit through its window handler; we only need to keep the text.
class CommitCatcher : public CIMIWinHandler {
public:
    void commit(const TWCHAR *wstr) override { committed = toUtf8(wstr); }
    void updatePreedit(const IPreeditString *) override {}
    void updateCandidates(const ICandidateList *) override {}
    void updateStatus(int, int) override {}
    std::string committed;
};

CIMIClassicView *view;
CommitCatcher catcher;

// Types `keys` one key event at a time, as an IM frontend would. A leading ' meets an empty
// buffer and is committed at once as a quotation mark: forgotten, like any commit so far.
void compose(const char *keys) {
    view->clearIC();
    for (const char *k = keys; *k; k++) view->onKeyEvent(CKeyEvent(*k, *k, 0));
    catcher.committed.clear();
}

// The first `count` candidates sunpinyin would show: sentences, tails, then words. (This
// version's getCandidateList returns the whole list whatever size it is asked for.)
std::vector<std::string> candidates(int count) {
    CCandidateList list;
    view->getCandidateList(list, 0, count);
    std::vector<std::string> out;
    for (int i = 0; i < list.size() && i < count; i++) out.push_back(toUtf8(list.candiString(i)));
    return out;
}

void convert(const char *keys) {
    compose(keys);
    std::vector<std::string> texts = candidates(MAX_CANDIDATES);
    std::vector<const char *> cands;
    for (const auto &text : texts) cands.push_back(text.c_str());
    reply_candidates(cands.data(), static_cast<int>(cands.size()));
    view->clearIC();
}

// Selects, step by step, the candidate covering most of the rest of `text`; sunpinyin commits
// once everything is selected, and its commit path memorises the sentence (history cache and
// user dictionary).
void learn(const char *keys, const char *text) {
    std::string rest = text;
    compose(keys);
    while (catcher.committed.empty() && !rest.empty()) {
        std::vector<std::string> cands = candidates(kLearnDepth);
        int best = -1;
        size_t bestLen = 0;
        for (size_t i = 0; i < cands.size(); i++) {
            size_t len = prefix_len(cands[i].c_str(), rest.c_str());
            if (len > bestLen) { best = static_cast<int>(i); bestLen = len; }
        }
        if (best < 0) break;
        // Select the way a user does: turn to the candidate's page, then pick within it.
        view->onCandidatePageRequest(best / MAX_CANDIDATES, false);
        view->onCandidateSelectRequest(best % MAX_CANDIDATES);
        rest.erase(0, bestLen);
    }
    reply_learned(catcher.committed.c_str());
    view->clearIC();
}

}  // namespace

int main(int argc, char **argv) {
    driver_args(argc, argv);
    char *userDir = make_private_dir("sunpinyin");
    ASimplifiedChinesePolicy::instance().setUserDataDir(userDir);
#ifdef SUNPINYIN_DATA_DIR_PATH  // setup.sh passes the packaged path
    ASimplifiedChinesePolicy::instance().setDataDir(SUNPINYIN_DATA_DIR_PATH);
#endif
    // ibus-sunpinyin's quanpin behaviour: typo correction (ign -> ing ...), fuzzy segmentation
    // (xian -> xi'an), and "simpler initials" so a bare z/c/s may stand for zh/ch/sh in
    // initials-only input such as zgrm.
    AQuanpinSchemePolicy::instance().setAutoCorrecting(true);
    AQuanpinSchemePolicy::instance().setFuzzySegmentation(true);
    AQuanpinSchemePolicy::instance().setInnerFuzzySegmentation(true);
    AQuanpinSchemePolicy::instance().setFuzzyForwarding(false, true);
    AQuanpinSchemePolicy::instance().setFuzzyPinyinPairs({{"z", "zh"}, {"c", "ch"}, {"s", "sh"}});

    CSunpinyinSessionFactory &factory = CSunpinyinSessionFactory::getFactory();
    factory.setPinyinScheme(CSunpinyinSessionFactory::QUANPIN);
    factory.setCandiWindowSize(MAX_CANDIDATES);
    view = dynamic_cast<CIMIClassicView *>(factory.createSession());
    if (!view) {
        fprintf(stderr, "sunpinyin_driver: cannot load the language model and lexicon "
                        "(is sunpinyin-data installed?)\n");
        return 3;
    }
    view->attachWinHandler(&catcher);

    reply_ready("sunpinyin", PEER_VERSION);
    serve(convert, learn);

    factory.destroySession(view);
    remove_private_dir(userDir);
    free(userDir);
    return 0;
}
